/**
 * The processes row 5 measures: a worker or a webhook of one side in a process of its own, so its
 * RSS and heap are its own and not the bench's. Each runs with --expose-gc and the memory probe
 * (bench/perf/memory-probe.mjs) preloaded, and is read by signalling it.
 */
import { fileURLToPath } from 'node:url';
import { type HandoffProcess, startHandoffProcess } from '../../test/support/handoff-process.js';

/** One reading of the probe, in bytes. */
export interface MemoryReading {
  /** RSS as the process stood, before the probe's collection: what an operator sees. */
  rssBeforeGc: number;
  /** RSS after a full GC of every thread. */
  rss: number;
  /** heapUsed after that GC: the main thread's and the worker threads' (Temporal's workflow thread). */
  heapUsed: number;
  mainHeapUsed: number;
  threadsHeapUsed: number;
  /** Worker threads that answered, and those that announced themselves. */
  threads: number;
  threadsKnown: number;
}

export interface MeasuredProcess {
  name: string;
  /** Resolves once it printed its ready line. */
  ready: Promise<void>;
  /** The last word of its ready line (a webhook's URL). */
  readyWord(): string | undefined;
  memory(): Promise<MemoryReading>;
  /** SIGTERM, then SIGKILL if it has not exited within STOP_GRACE_MS. */
  stop(): Promise<void>;
  output: string[];
}

const probePath = fileURLToPath(new URL('./memory-probe.mjs', import.meta.url));
const PROBE_PREFIX = '[memory-probe] ';
/** A worker holding a thousand workflows still answers within a few seconds; longer means it hangs. */
const READING_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 15_000;

export function startMeasuredProcess(options: {
  name: string;
  entryPoint: string;
  env: NodeJS.ProcessEnv;
  readyLine: string;
}): MeasuredProcess {
  const waiting: Array<(reading: MemoryReading) => void> = [];
  let readyWord: string | undefined;
  const child: HandoffProcess = startHandoffProcess({
    name: options.name,
    entryPoint: options.entryPoint,
    nodeArgs: ['--expose-gc', '--import', probePath],
    env: { PATH: process.env.PATH, ...options.env },
    readyLine: options.readyLine,
    onLine(line) {
      if (line.startsWith(PROBE_PREFIX)) {
        waiting.shift()?.(JSON.parse(line.slice(PROBE_PREFIX.length)) as MemoryReading);
      } else if (line.includes(options.readyLine)) {
        readyWord = line.trim().split(/\s+/).at(-1);
      }
    },
  });
  return {
    name: options.name,
    ready: child.ready,
    readyWord: () => readyWord,
    output: child.output,
    memory() {
      return new Promise<MemoryReading>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`${options.name} did not report its memory within ${READING_TIMEOUT_MS} ms`)),
          READING_TIMEOUT_MS,
        );
        waiting.push((reading) => {
          clearTimeout(timer);
          resolve(reading);
        });
        child.signal('SIGWINCH');
      });
    },
    async stop() {
      child.signal('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceful = await Promise.race([
        child.exited.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), STOP_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!graceful) await child.kill();
    },
  };
}
