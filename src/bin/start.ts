/**
 * `npm start`: the whole of Handoff in one process, on the embedded defaults unless the
 * environment configures a tenant or a Temporal cluster (README, "Configuration").
 */
import { startStack } from '../app/stack.js';
import { ConfigError, loadConfig } from '../config/env.js';
import { defaultWorkflowBundlePath } from '../worker/bundle.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const stack = await startStack(config, {
    workflowBundlePath: config.workflowBundlePath ?? defaultWorkflowBundlePath,
    logger: { level: config.logLevel },
    report: (line) => console.log(`[handoff] ${line}`),
  });
  if (stack.uiUrl)
    console.log(`[handoff] Temporal UI: ${stack.uiUrl}/namespaces/${config.temporal.namespace}/workflows`);
  if (stack.simulator) {
    console.log(`[handoff] no tenant configured: Graph is the simulator at ${stack.simulator.url}`);
    console.log('[handoff] try it: npm run demo');
  }
  console.log(
    `[handoff] ready: webhook ${stack.webhookUrl}/api/calls, API ${stack.apiUrl}/api/transfers (OpenAPI ${stack.apiUrl}/openapi.json)`,
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[handoff] ${signal}: stopping`);
    stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
