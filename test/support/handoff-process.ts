// One of Handoff's entry points (src/bin/*.ts) in a process of its own, as docker-compose runs it.
// A TypeScript entry point is launched as `node --import tsx <entry>`: tsx's loader runs inside that
// one node process, so the pid is the entry point's own and a signal reaches it. (`npx tsx …` or the
// `tsx` CLI would put a wrapper process in between, and a SIGKILL to the wrapper would leave the real
// process running.) A compiled `.js` entry point runs under plain node, as the Docker image runs it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../src/temporal/project-root.js';
import { type Reaper, reapOnParentExit } from '../../src/temporal/reaper.js';

export interface HandoffProcessOptions {
  /** e.g. `src/bin/worker.ts`, or a compiled `.js` file (no tsx then). */
  entryPoint: string;
  /** Node options before the entry point, e.g. `--expose-gc` (the bench's memory row). */
  nodeArgs?: string[];
  /** The whole environment: nothing from the developer's shell (no GRAPH_* turning on tenant mode). */
  env: NodeJS.ProcessEnv;
  /** Shown in front of every output line, e.g. `worker-1`. */
  name: string;
  /** The line that says it is ready, e.g. `[handoff-worker] ready`. */
  readyLine: string;
  /** How long to wait for that line; default 60 s. */
  readyTimeoutMs?: number;
  /** Sees every line it prints, e.g. to read the URLs it listens on. */
  onLine?: (line: string) => void;
}

export interface HandoffProcess {
  name: string;
  pid: number;
  /** Everything it printed so far, each line prefixed with its name: for failure messages. */
  output: string[];
  /** Resolves once it printed its ready line; rejects, with its output, if it exits or stays silent first. */
  ready: Promise<void>;
  /** Settles when it has exited, whatever the reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL (no graceful shutdown): resolves once it has exited. */
  kill(): Promise<void>;
  /** Sends a signal, e.g. SIGTERM for the graceful shutdown. */
  signal(signal: NodeJS.Signals): void;
}

/** tsx for TypeScript; nothing for compiled JavaScript, whose ~35 MB of loader would not be the process's. */
function loaderFor(entryPoint: string): string[] {
  return entryPoint.endsWith('.ts') ? ['--import', 'tsx'] : [];
}

export function startHandoffProcess(options: HandoffProcessOptions): HandoffProcess {
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), ...loaderFor(options.entryPoint), options.entryPoint],
    {
      cwd: projectRoot(),
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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
      options.onLine?.(line);
      if (line.includes(options.readyLine)) onReady();
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
  // A caller that never awaits `ready` must not see an unhandled rejection when the process is killed.
  ready.catch(() => undefined);

  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name: options.name,
    pid: child.pid,
    output,
    ready,
    exited,
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    signal(signal) {
      if (running()) child.kill(signal);
    },
  };
}
