// Handoff's webhook in a process of its own (src/bin/webhook.ts), as docker-compose runs it, so a test
// can send it SIGTERM under load. Launched like test/support/worker-process.ts: `node --import tsx`, so
// the pid is the webhook's own and the signal reaches it, not a wrapper.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { projectRoot } from '../../src/temporal/project-root.js';
import { type Reaper, reapOnParentExit } from '../../src/temporal/reaper.js';

export interface WebhookProcessOptions {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** The running simulator whose keys sign the notifications (embedded mode). */
  simulatorUrl: string;
  /** HANDOFF_DRAIN_DELAY_MS. */
  drainDelayMs?: number;
  /** Shown in front of every output line, e.g. `webhook-1`. */
  name: string;
  readyTimeoutMs?: number;
}

export interface WebhookProcess {
  name: string;
  pid: number;
  output: string[];
  /** Resolves with the listeners' URLs once it printed "ready". */
  ready: Promise<{ webhookUrl: string; apiUrl: string }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal (SIGTERM for the graceful shutdown). */
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL, for clean-up: resolves once it has exited. */
  kill(): Promise<void>;
}

const READY_LINE = '[handoff-webhook] ready';

export function startWebhookProcess(options: WebhookProcessOptions): WebhookProcess {
  // Only what the webhook needs: no GRAPH_* from the developer's shell may turn on tenant mode. Port 0
  // on both listeners: the URLs are read from the lines it prints.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_NAMESPACE: options.namespace,
    HANDOFF_TASK_QUEUE: options.taskQueue,
    SIMULATOR_URL: options.simulatorUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    HANDOFF_API_HOST: '127.0.0.1',
    HANDOFF_API_PORT: '0',
    LOG_LEVEL: 'warn',
    ...(options.drainDelayMs !== undefined ? { HANDOFF_DRAIN_DELAY_MS: String(options.drainDelayMs) } : {}),
  };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/bin/webhook.ts'], {
    cwd: projectRoot(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start the ${options.name} process`);
  const reaper: Reaper = reapOnParentExit(child);
  const output: string[] = [];
  let webhookUrl: string | undefined;
  let apiUrl: string | undefined;
  let onReady: () => void = () => {};
  const sawReady = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      output.push(`[${options.name}] ${line}`);
      webhookUrl ??= /webhook \(public[^)]*\) on (http:\/\/[^;\s]+)/.exec(line)?.[1];
      apiUrl ??= /API on (http:\/\/[^:\s]+:\d+)/.exec(line)?.[1];
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
    sawReady.then(() => {
      if (!webhookUrl || !apiUrl)
        throw new Error(`${options.name} printed no listener URLs:\n${output.join('\n')}`);
      return { webhookUrl, apiUrl };
    }),
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
  ready.catch(() => undefined);

  return {
    name: options.name,
    pid: child.pid,
    output,
    ready,
    exited,
    signal(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
