/**
 * The webhook alone (docker-compose's `webhook` service): the public listener for Graph's
 * notifications and the API listener for other services (src/app/servers.ts).
 */
import { describeListeners, startListeners } from '../app/servers.js';
import { prepareStandalone } from '../app/standalone.js';
import { webhookDepsFor } from '../app/webhook.js';
import { ConfigError } from '../config/env.js';
import { connectClient } from '../temporal/connection.js';

async function main(): Promise<void> {
  const { config, temporalAddress: address, simulator } = await prepareStandalone('webhook');
  const client = await connectClient(config.temporal, address);
  const listeners = await startListeners(
    config,
    webhookDepsFor(config, client, {
      ...(simulator ? { simulator } : {}),
      ...(config.temporal.uiUrl ? { temporalUiUrl: config.temporal.uiUrl } : {}),
      logger: { level: config.logLevel },
    }),
  );
  for (const line of describeListeners(config, listeners)) console.log(`[handoff-webhook] ${line}`);
  console.log('[handoff-webhook] ready');
  const stop = () => {
    listeners
      .close()
      .then(() => client.connection.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
