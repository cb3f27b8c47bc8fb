/**
 * The webhook alone (docker-compose's `webhook` service): the public listener for Graph's
 * notifications and the API listener for other services (src/app/servers.ts).
 */
import { describeListeners, startListeners } from '../app/servers.js';
import { prepareStandalone } from '../app/standalone.js';
import { webhookDepsFor } from '../app/webhook.js';
import { ConfigError } from '../config/env.js';
import { connectClient } from '../temporal/connection.js';
import { tracingFromSettings } from '../tracing/configured.js';

async function main(): Promise<void> {
  const { config, temporalAddress: address, simulator } = await prepareStandalone('webhook');
  const tracing = await tracingFromSettings(config.tracing);
  const client = await connectClient(config.temporal, address, tracing?.clientInterceptors);
  const listeners = await startListeners(
    config,
    webhookDepsFor(config, client, {
      ...(simulator ? { simulator } : {}),
      ...(config.temporal.uiUrl ? { temporalUiUrl: config.temporal.uiUrl } : {}),
      logger: { level: config.logLevel },
      ...(tracing ? { tracer: tracing.tracer } : {}),
    }),
  );
  for (const line of describeListeners(config, listeners)) console.log(`[handoff-webhook] ${line}`);
  console.log('[handoff-webhook] ready');
  let stopping = false;
  // Drains first (docs/production.md, "Shutdown"): nothing Graph sent is dropped, what arrives now is
  // refused with 503 so Graph retries it, and what is in flight reaches its workflow before the exit.
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[handoff-webhook] ${signal}: draining for ${config.drainDelayMs} ms, then closing`);
    listeners
      .drainAndClose(config.drainDelayMs)
      .then(() => client.connection.close())
      // The spans of the last requests are still in the batch: export them before the exit.
      .then(() => tracing?.shutdown())
      .then(
        () => {
          console.log('[handoff-webhook] stopped');
          process.exit(0);
        },
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
