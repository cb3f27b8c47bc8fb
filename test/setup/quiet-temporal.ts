/**
 * Tests provoke failures on purpose: activities Graph refuses, workflows that fail and compensate,
 * histories that no longer replay, workers killed mid-task. Temporal logs each of them at WARN
 * with its stack trace (worker, core and bundler alike), which buried the one failure that
 * mattered. Every test process therefore sends Temporal's logs, core ones forwarded too, to a
 * buffer, and prints that buffer only for a test (or a file's hooks) that failed: a real failure
 * still comes with everything Temporal said while it ran.
 */
import { inspect } from 'node:util';
import { DefaultLogger, type LogEntry, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { afterAll, beforeEach } from 'vitest';

/** How many log lines a failure prints at most: the most recent ones. */
const KEPT_LINES = 400;

interface TemporalLogBuffer {
  lines: string[];
}

// On globalThis: vitest may run this file again in a process whose Runtime (installed once per
// process) still logs into the first run's buffer.
const globalKey = Symbol.for('handoff.test.temporalLogBuffer');
const holder = globalThis as typeof globalThis & { [globalKey]?: TemporalLogBuffer };
holder[globalKey] ??= { lines: [] };
const buffer: TemporalLogBuffer = holder[globalKey];

function format(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const meta =
    entry.meta && Object.keys(entry.meta).length > 0 ? ` ${inspect(entry.meta, { depth: 4 })}` : '';
  return `${time} [temporal ${entry.level}] ${entry.message}${meta}`;
}

try {
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      buffer.lines.push(format(entry));
      if (buffer.lines.length > KEPT_LINES) buffer.lines.splice(0, buffer.lines.length - KEPT_LINES);
    }),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN', other: 'WARN' }), forward: {} },
    },
  });
} catch {
  // Already installed in this process (vitest reuses workers): the first install stands.
}

/** With forwarding on, the Runtime holds log messages back for 100 ms to sort them: take them now. */
function flushRuntimeLogs(): void {
  // The SDK's FlushableLogger (not exported from the package root).
  const logger = Runtime.instance().logger as unknown as { flush?: () => void };
  logger.flush?.();
}

function printBuffered(what: string): void {
  flushRuntimeLogs();
  if (buffer.lines.length === 0) return;
  process.stderr.write(
    `\n── Temporal logged while ${what} ran (${buffer.lines.length} lines) ──\n${buffer.lines.join('\n')}\n`,
  );
  buffer.lines.length = 0;
}

beforeEach(({ task, onTestFailed }) => {
  // What earlier tests and the file's setup logged belongs to them.
  flushRuntimeLogs();
  buffer.lines.length = 0;
  onTestFailed(() => printBuffered(`"${task.name}"`));
});

// vitest 4 passes hooks a fixture context first (it must be destructured) and the suite second.
// biome-ignore lint/correctness/noEmptyPattern: the context is not needed, the suite is.
afterAll(({}, suite) => {
  // A failed beforeAll fails the file without a failed test: its errors sit on the file.
  if (suite.result?.state === 'fail' || (suite.result?.errors?.length ?? 0) > 0) {
    printBuffered(`the hooks of ${suite.name}`);
  }
  buffer.lines.length = 0;
});
