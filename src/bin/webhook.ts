/** The webhook alone (docker-compose's `webhook` service): Graph notifications and the transfers API. */
import { prepareStandalone } from '../app/standalone.js';
import { webhookDepsFor } from '../app/webhook.js';
import { ConfigError } from '../config/env.js';
import { connectClient } from '../temporal/connection.js';
import { buildWebhookServer } from '../webhook/index.js';

async function main(): Promise<void> {
  const { config, temporalAddress: address, simulator } = await prepareStandalone('webhook');
  const client = await connectClient(config.temporal, address);
  const webhook = buildWebhookServer(
    webhookDepsFor(config, client, {
      ...(simulator ? { simulator } : {}),
      ...(config.temporal.uiUrl ? { temporalUiUrl: config.temporal.uiUrl } : {}),
      logger: { level: config.logLevel },
    }),
  );
  await webhook.listen({ host: config.webhook.host, port: config.webhook.port });
  console.log(`[handoff-webhook] ready on ${config.webhook.host}:${config.webhook.port}`);
  const stop = () => {
    webhook
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
