/**
 * The workflow-level properties with a large run count (issue 4, item 1):
 *
 *   npm run test:properties -- --runs 1000 [--concurrency 20] [--seed 42] [--scenario P2P]
 *
 * Starts one Temporal dev server, worker, webhook and Graph simulator, runs every scenario of
 * test/support/flow-properties.ts (`flowScenarios`) once in order and then `--runs` times under
 * generated delivery conditions, `--concurrency` runs at a time, and prints per scenario: runs,
 * passed, failed with their counterexamples, and the distinct delivery orders seen. Exits 1 when
 * a run differed from the in-order one. `--seed` repeats a report's conditions.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  checkFlowProperty,
  type FlowPropertyReport,
  flowScenarios,
  formatFlowReport,
} from '../test/support/flow-properties.js';
import {
  buildTestWorkflowBundle,
  type HandoffTestStack,
  startHandoffTestStack,
  startTestTemporal,
  type TestTemporal,
  type TestWorkflowBundle,
} from '../test/support/handoff-stack.js';

export class PropertyRunUsageError extends Error {}

export interface PropertyRunOptions {
  runs: number;
  concurrency: number;
  seed?: number;
  /** Only scenarios whose name contains this text (case-insensitive). */
  scenario?: string;
}

const usage =
  'usage: npm run test:properties -- [--runs N (default 1000)] [--concurrency N (default 20)] [--seed N] [--scenario TEXT]';

function wholeNumber(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new PropertyRunUsageError(`--${name} must be a whole number >= ${min}, got "${text}"`);
  }
  return value;
}

export function parsePropertyRunArgs(args: string[]): PropertyRunOptions {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        runs: { type: 'string' },
        concurrency: { type: 'string' },
        seed: { type: 'string' },
        scenario: { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new PropertyRunUsageError((error as Error).message);
  }
  const options: PropertyRunOptions = {
    runs: wholeNumber('runs', values.runs, 1_000, 1),
    concurrency: wholeNumber('concurrency', values.concurrency, 20, 1),
  };
  if (values.seed !== undefined) options.seed = wholeNumber('seed', values.seed, 0, 0);
  if (values.scenario !== undefined) {
    const wanted = values.scenario.toLowerCase();
    if (!flowScenarios.some((scenario) => scenario.name.toLowerCase().includes(wanted))) {
      throw new PropertyRunUsageError(
        `--scenario "${values.scenario}" matches none of: ${flowScenarios.map((scenario) => scenario.name).join('; ')}`,
      );
    }
    options.scenario = values.scenario;
  }
  return options;
}

export async function runProperties(options: PropertyRunOptions): Promise<FlowPropertyReport[]> {
  const scenarios = flowScenarios.filter(
    (scenario) => !options.scenario || scenario.name.toLowerCase().includes(options.scenario.toLowerCase()),
  );
  let temporal: TestTemporal | undefined;
  let bundle: TestWorkflowBundle | undefined;
  let stack: HandoffTestStack | undefined;
  const reports: FlowPropertyReport[] = [];
  try {
    console.log('starting a Temporal dev server, the Graph simulator, a worker and the webhook…');
    [temporal, bundle] = await Promise.all([startTestTemporal(), buildTestWorkflowBundle()]);
    stack = await startHandoffTestStack({
      temporal,
      workflowBundlePath: bundle.path,
      // Graph retries a notification the webhook answered 503 (Temporal slow under load).
      simulator: { notifications: { maxAttempts: 8, retryDelayMs: 250 } },
    });
    for (const scenario of scenarios) {
      console.log(`\n${scenario.name}: ${options.runs} runs, ${options.concurrency} at a time`);
      const report = await checkFlowProperty({
        stack,
        scenario,
        runs: options.runs,
        concurrency: options.concurrency,
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        onBatch: ({ done, failed, runs }) => console.log(`  ${done}/${runs} runs, ${failed} failed`),
      });
      reports.push(report);
      console.log(formatFlowReport(report));
    }
  } finally {
    await stack?.stop();
    await temporal?.stop();
    bundle?.remove();
  }
  return reports;
}

async function main(): Promise<void> {
  let options: PropertyRunOptions;
  try {
    options = parsePropertyRunArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof PropertyRunUsageError)) throw error;
    console.error(`${error.message}\n${usage}`);
    process.exitCode = 2;
    return;
  }
  const reports = await runProperties(options);
  console.log('\nsummary');
  for (const report of reports) {
    console.log(
      `  ${report.scenario}: runs ${report.runs}, passed ${report.passed}, failed ${report.failures.length}, distinct delivery orders ${report.distinctDeliveryOrders} (seed ${report.seed})`,
    );
  }
  if (reports.some((report) => report.failures.length > 0)) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
