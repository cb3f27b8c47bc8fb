/**
 * `npm run check-config`: reads the configuration as `npm start` will and stops with the settings
 * to fix. `prestart` runs it first, so a typo is reported in a second, before the Temporal
 * binaries are installed and the workflow code is bundled.
 */
import { ConfigError, loadConfig } from '../config/env.js';
import { unsetHookHeaderVariables } from '../routing/rule-file.js';

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
    // Not an error: the worker that asks the hook may run with another environment than this one.
    for (const { rule, header, variable } of unsetHookHeaderVariables(ruleSet, process.env)) {
      console.warn(
        `[handoff] warning: rule "${rule}" sends the decision hook header ${header} from ${variable}, which is not set here; a worker without it never asks the hook (the fallback decides)`,
      );
    }
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
