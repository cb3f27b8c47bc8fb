/**
 * `npm run simulator`: the Graph calling API stand-in as a process, for running the webhook and
 * worker against it by hand. Knobs over HTTP: PUT /_simulator/settings, POST /_simulator/faults,
 * POST /_simulator/incoming-calls, GET /_simulator/calls, GET /_simulator/deliveries.
 *
 * Environment: SIMULATOR_PORT (default 4010), SIMULATOR_HOST (default 127.0.0.1; docker-compose
 * sets 0.0.0.0), SIMULATOR_TENANT_ID, SIMULATOR_CLIENT_ID, SIMULATOR_CLIENT_SECRET,
 * SIMULATOR_BOT_APP_ID, SIMULATOR_SEED. Other processes read the settings below from
 * GET /_simulator/connection.
 */
import { startSimulator } from './index.js';

function integerFromEnv(name: string, fallback: number | undefined): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) {
    throw new Error(`${name} must be an integer, got "${raw}"`);
  }
  return value;
}

function optionalEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

async function main(): Promise<void> {
  const port = integerFromEnv('SIMULATOR_PORT', 4010);
  const seed = integerFromEnv('SIMULATOR_SEED', undefined);
  const host = optionalEnv('SIMULATOR_HOST');
  const tenantId = optionalEnv('SIMULATOR_TENANT_ID');
  const clientId = optionalEnv('SIMULATOR_CLIENT_ID');
  const clientSecret = optionalEnv('SIMULATOR_CLIENT_SECRET');
  const botAppId = optionalEnv('SIMULATOR_BOT_APP_ID');
  const simulator = await startSimulator({
    ...(port !== undefined ? { port } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(host ? { host } : {}),
    ...(tenantId ? { tenantId } : {}),
    ...(clientId ? { clientId } : {}),
    ...(clientSecret ? { clientSecret } : {}),
    ...(botAppId ? { botAppId } : {}),
  });

  console.log(`Graph simulator listening on ${simulator.url}`);
  console.log(`  Graph base URL:      ${simulator.graphBaseUrl}`);
  console.log(`  tenant id:           ${simulator.tenantId}`);
  console.log(`  client id:           ${simulator.clientId}`);
  console.log(`  client secret:       ${simulator.clientSecret}`);
  console.log('  MSAL auth settings:');
  console.log(`    authority:         ${simulator.msal.authority}`);
  console.log(`    knownAuthorities:  ${JSON.stringify(simulator.msal.knownAuthorities)}`);
  console.log(`    authorityMetadata: ${simulator.msal.authorityMetadata}`);
  console.log('  Notification JWTs:');
  console.log(`    JWKS URL:          ${simulator.notificationAuth.jwksUrl}`);
  console.log(`    OpenID config:     ${simulator.notificationAuth.openIdConfigurationUrl}`);
  console.log(
    `    issuer / audience: ${simulator.notificationAuth.issuer} / ${simulator.notificationAuth.audience}`,
  );
  console.log(
    `  Knobs: PUT ${simulator.url}/_simulator/settings, POST ${simulator.url}/_simulator/incoming-calls`,
  );
  console.log(`  Settings for other processes: GET ${simulator.url}/_simulator/connection`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the Graph simulator`);
    simulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
