/** The webhook alone (docker-compose's `webhook` service): Graph notifications and the transfers API. */
import { connectToSimulator } from '../app/simulator-connection.js';
import { webhookDepsFor } from '../app/webhook.js';
import { ConfigError, loadConfig } from '../config/env.js';
import { connectClient } from '../temporal/connection.js';
import { buildWebhookServer } from '../webhook/index.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const address = config.temporal.address;
  if (address === undefined)
    throw new ConfigError([
      'TEMPORAL_ADDRESS is required for a webhook that runs on its own (npm start embeds a server)',
    ]);
  if (config.mode === 'embedded' && config.simulator.url === undefined) {
    throw new ConfigError([
      'SIMULATOR_URL or a tenant (GRAPH_TENANT_ID, …) is required for a webhook that runs on its own',
    ]);
  }
  const simulator = config.mode === 'embedded' ? await connectToSimulator(config.simulator.url!) : undefined;
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
