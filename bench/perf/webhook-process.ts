/**
 * One side's webhook in a process of its own, for row 5's RSS (bench/perf/memory-row.ts).
 * BENCH_WEBHOOK_SIDE=handoff: Handoff's webhook as row 1 builds it (bench/perf/handoff-webhook.ts),
 * configured as a standalone webhook is (TEMPORAL_ADDRESS, HANDOFF_TASK_QUEUE, SIMULATOR_URL, …),
 * verifying tokens against the bench's key server at BENCH_JWKS_URL. BENCH_WEBHOOK_SIDE=bare: the
 * bare route (bench/perf/bare-webhook.ts) for BENCH_TASK_QUEUE on BENCH_TEMPORAL_ADDRESS.
 * Prints `[bench-webhook] ready <url>` once it listens; SIGTERM closes it.
 */
// Each side imports only its own modules (below, when it starts): a process's RSS is what it loaded,
// and the bare side must not carry Handoff's modules.

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '')
    throw new Error(`${name} is required (bench/perf/webhook-process.ts)`);
  return value;
}

async function handoffWebhook(): Promise<{ url: string; stop(): Promise<void> }> {
  const [{ prepareStandalone }, { connectClient }, { listenBenchWebhook }] = await Promise.all([
    import('../../src/app/standalone.js'),
    import('../../src/temporal/connection.js'),
    import('./handoff-webhook.js'),
  ]);
  const { config, temporalAddress, simulator } = await prepareStandalone('webhook');
  if (!simulator) throw new Error('the bench runs Handoff against its simulator: SIMULATOR_URL is required');
  const client = await connectClient(config.temporal, temporalAddress);
  const webhook = await listenBenchWebhook(config, client, simulator, setting('BENCH_JWKS_URL'));
  return {
    url: webhook.url,
    stop: async () => {
      await webhook.stop();
      await client.connection.close();
    },
  };
}

async function bareWebhook(): Promise<{ url: string; stop(): Promise<void> }> {
  const [{ Client, Connection }, { startBareWebhook }] = await Promise.all([
    import('@temporalio/client'),
    import('./bare-webhook.js'),
  ]);
  const connection = await Connection.connect({ address: setting('BENCH_TEMPORAL_ADDRESS') });
  const client = new Client({ connection, namespace: setting('BENCH_NAMESPACE') });
  const webhook = await startBareWebhook(client, setting('BENCH_TASK_QUEUE'));
  return {
    url: webhook.url,
    stop: async () => {
      await webhook.stop();
      await connection.close();
    },
  };
}

async function main(): Promise<void> {
  const side = setting('BENCH_WEBHOOK_SIDE');
  if (side !== 'handoff' && side !== 'bare') {
    throw new Error(`BENCH_WEBHOOK_SIDE must be handoff or bare, got "${side}"`);
  }
  const webhook = side === 'handoff' ? await handoffWebhook() : await bareWebhook();
  console.log(`[bench-webhook] ready ${webhook.url}`);
  process.once('SIGTERM', () => {
    webhook.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
