// Handoff's worker in a process of its own (src/bin/worker.ts), as docker-compose runs it, so a test
// can SIGKILL it mid-transfer. Launched as `node --import tsx src/bin/worker.ts`: tsx's loader runs
// inside that one node process, so the pid is the worker's own. (`npx tsx …` or the `tsx` CLI would
// put a wrapper process in between, and a SIGKILL to the wrapper would leave the worker running.)
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../src/temporal/project-root.js';
import { type Reaper, reapOnParentExit } from '../../src/temporal/reaper.js';

export interface WorkerProcessOptions {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** The running simulator the worker reads its Graph connection from (embedded mode). */
  simulatorUrl: string;
  /** A prebuilt workflow bundle, so the worker starts in about a second instead of bundling. */
  workflowBundlePath?: string;
  /** Shown in front of every output line, e.g. `worker-1`. */
  name: string;
  /** How long to wait for the worker's "ready" line; default 60 s. */
  readyTimeoutMs?: number;
  /** More settings, e.g. HANDOFF_WORKER_METRICS_ADDRESS. */
  env?: Record<string, string>;
}

export interface WorkerProcess {
  name: string;
  pid: number;
  /** Everything it printed so far, each line prefixed with its name: for failure messages. */
  output: string[];
  /** Resolves once it polls its task queue; rejects, with its output, if it exits or stays silent first. */
  ready: Promise<void>;
  /** Settles when it has exited, whatever the reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL (no graceful shutdown): resolves once it has exited. */
  kill(): Promise<void>;
  /** Sends a signal, e.g. SIGTERM for the graceful shutdown. */
  signal(signal: NodeJS.Signals): void;
}

const READY_LINE = '[handoff-worker] ready';

export function startWorkerProcess(options: WorkerProcessOptions): WorkerProcess {
  // Only what the worker needs: no GRAPH_* from the developer's shell may turn on tenant mode.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_NAMESPACE: options.namespace,
    HANDOFF_TASK_QUEUE: options.taskQueue,
    SIMULATOR_URL: options.simulatorUrl,
    ...(options.workflowBundlePath ? { HANDOFF_WORKFLOW_BUNDLE: options.workflowBundlePath } : {}),
    ...options.env,
  };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/bin/worker.ts'], {
    cwd: projectRoot(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start the ${options.name} process`);
  const reaper: Reaper = reapOnParentExit(child);
  const output: string[] = [];
  let onReady: () => void = () => {};
  const sawReady = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      output.push(`[${options.name}] ${line}`);
      if (line.includes(READY_LINE)) onReady();
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      reaper.disarm();
      resolve({ code, signal });
    });
  });
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const ready = Promise.race([
    sawReady,
    exited.then(({ code, signal }) => {
      throw new Error(
        `${options.name} exited (code ${code}, signal ${signal}) before it was ready:\n${output.join('\n')}`,
      );
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`${options.name} was not ready within ${readyTimeoutMs} ms:\n${output.join('\n')}`),
          ),
        readyTimeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  // A caller that never awaits `ready` must not see an unhandled rejection when the worker is killed.
  ready.catch(() => undefined);

  return {
    name: options.name,
    pid: child.pid,
    output,
    ready,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    signal(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
