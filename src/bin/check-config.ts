/**
 * `npm run check-config`: reads the configuration as `npm start` will and stops with the settings
 * to fix. `prestart` runs it first, so a typo is reported in a second, before the Temporal
 * binaries are installed and the workflow code is bundled.
 */
import { ConfigError, loadConfig } from '../config/env.js';

try {
  const config = loadConfig();
  console.log(
    `[handoff] configuration ok: ${config.mode === 'tenant' ? 'Microsoft Graph tenant' : 'embedded defaults (Graph simulator)'}, ${config.temporal.address ? `Temporal at ${config.temporal.address}` : 'embedded Temporal dev server'}`,
  );
  // The rule file was read and checked by loadConfig: say which rules calls will be routed by.
  if (config.routing) {
    const { path, ruleSet } = config.routing;
    console.log(
      `[handoff] routing rules ok: ${ruleSet.rules.length} rules from ${path}${ruleSet.version !== undefined ? ` (version ${ruleSet.version})` : ''}; unmatched calls: ${ruleSet.default.kind}`,
    );
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
