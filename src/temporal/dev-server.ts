import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { type SearchAttributeType, TypedSearchAttributes } from '@temporalio/common';
// Not re-exported from the package root; the SDK exports the encoder for registering attributes in tests.
import {
  encodeSearchAttributeIndexedValueType,
  type SearchAttributeKey,
} from '@temporalio/common/lib/search-attributes.js';
import { resolveTemporalCli } from './binaries.js';
import { getFreePort } from './ports.js';
import { projectRoot } from './project-root.js';
import { type Reaper, reapOnParentExit } from './reaper.js';
import { handoffSearchAttributes } from './search-attributes.js';

export type DevServerLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface DevServerOptions {
  /** gRPC frontend port; a free port when omitted. */
  port?: number;
  /** Temporal UI port; a free port when omitted. */
  uiPort?: number;
  /** SQLite file holding all server state; default `.temporal/data/handoff.db` in the project. */
  dbFile?: string;
  /** Namespace to create and wait for; default `default` (which the server always creates). */
  namespace?: string;
  /** Search attributes to register; default the Handoff ones from search-attributes.ts. */
  searchAttributes?: readonly SearchAttributeKey<SearchAttributeType>[];
  /** Server log level; default `warn` (the server is chatty at `info`). */
  logLevel?: DevServerLogLevel;
  /** Receives every line the server prints; without it, lines are only kept for error messages. */
  log?: (line: string) => void;
  /** How long to wait for the server to accept requests; default 60 s (a busy 2-core machine needs >5 s). */
  startTimeoutMs?: number;
  /**
   * Extra dynamic config, e.g. `{ 'limit.historyCount.suggestContinueAsNew': '200' }` for a test
   * that needs Temporal to suggest continue-as-new soon.
   */
  dynamicConfig?: Record<string, string>;
}

export interface DevServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DevServer {
  /** gRPC frontend, `127.0.0.1:<port>`. */
  address: string;
  /** `http://127.0.0.1:<uiPort>`. */
  uiUrl: string;
  namespace: string;
  dbFile: string;
  pid: number;
  /** Settles when the server process exits, whether stopped or crashed. */
  exited: Promise<DevServerExit>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
}

const HEAD_LINES = 15;
const TAIL_LINES = 40;
const STOP_GRACE_MS = 10_000;

/** The CLI flags that make the dev server register `keys` in every namespace it creates. */
export function searchAttributeArgs(keys: readonly SearchAttributeKey<SearchAttributeType>[]): string[] {
  return keys.flatMap((key) => [
    '--search-attribute',
    `${key.name}=${TypedSearchAttributes.toMetadataType(key.type)}`,
  ]);
}

/**
 * Starts `temporal server start-dev` from the binary `npm run setup` installed, bound to 127.0.0.1, with
 * its state in a SQLite file and the UI enabled, and resolves once the frontend answers for `namespace`
 * with all search attributes registered. The server does not outlive this process (see reaper.ts).
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  // Ports we picked ourselves can be taken by someone else before the server binds them, and so can
  // the ports the CLI picks for its internal services (seen at load average 16: a panic at start):
  // retry with new ones. Ports the caller chose are tried once.
  const attempts: number = options.port === undefined || options.uiPort === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= attempts || !(error instanceof StartupExitError)) throw error;
    }
  }
}

/** The server process exited before it was ready (a port taken under it, most often). */
class StartupExitError extends Error {}

async function startOnce(options: DevServerOptions): Promise<DevServer> {
  const executable: string = resolveTemporalCli();
  const port: number = options.port ?? (await getFreePort());
  const uiPort: number = options.uiPort ?? (await getFreePort());
  const namespace: string = options.namespace ?? 'default';
  const dbFile: string = resolve(options.dbFile ?? join(projectRoot(), '.temporal', 'data', 'handoff.db'));
  const searchAttributes: readonly SearchAttributeKey<SearchAttributeType>[] =
    options.searchAttributes ?? handoffSearchAttributes;
  const address = `127.0.0.1:${port}`;
  const uiUrl = `http://127.0.0.1:${uiPort}`;
  mkdirSync(dirname(dbFile), { recursive: true });

  const args: string[] = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    dbFile,
    '--log-level',
    options.logLevel ?? 'warn',
    // Offline-friendly: the UI would fetch a news feed and the server would check for newer versions.
    '--ui-disable-news-fetch',
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    ...Object.entries(options.dynamicConfig ?? {}).flatMap(([key, value]) => [
      '--dynamic-config-value',
      `${key}=${value}`,
    ]),
    ...(namespace === 'default' ? [] : ['--namespace', namespace]),
    ...searchAttributeArgs(searchAttributes),
  ];
  const child: ChildProcess = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // The first lines say why a Go panic happened; the last ones what the server did before it stopped.
  const head: string[] = [];
  const tail: string[] = [];
  let skipped = 0;
  const onLine = (line: string): void => {
    if (head.length < HEAD_LINES) head.push(line);
    else {
      tail.push(line);
      if (tail.length > TAIL_LINES) {
        tail.shift();
        skipped += 1;
      }
    }
    options.log?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine);
  }
  // 'close' rather than 'exit': it comes after the output pipes are drained, so the tail is complete.
  const exited: Promise<DevServerExit> = new Promise((resolveExit) => {
    child.once('close', (code, signal) => resolveExit({ code, signal }));
  });
  // A spawn failure (e.g. EACCES) emits 'error' instead of 'exit'.
  // A failing kill() emits 'error' too; 'on' keeps such late errors from crashing the process.
  const spawnFailed: Promise<Error> = new Promise((resolveError) => child.on('error', resolveError));
  const reaper: Reaper | undefined = child.pid === undefined ? undefined : reapOnParentExit(child);
  void exited.then(() => reaper?.disarm());

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async (): Promise<void> => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      reaper?.disarm();
    })();
    return stopping;
  };

  const startTimeoutMs: number = options.startTimeoutMs ?? 60_000;
  const startedAt: number = Date.now();
  const failure = (reason: string, ErrorType: new (message: string) => Error = Error): Error => {
    const lines: string[] = [...head, ...(skipped > 0 ? [`… (${skipped} lines)`] : []), ...tail];
    const output: string = lines.length > 0 ? lines.join('\n') : '(no output)';
    return new ErrorType(
      `Temporal dev server (${executable} ${args.join(' ')}) ${reason}. Output:\n${output}`,
    );
  };
  const died: Promise<Error> = Promise.race([
    exited.then((exit) =>
      failure(`exited during startup (code ${exit.code}, signal ${exit.signal})`, StartupExitError),
    ),
    spawnFailed.then((error) => failure(`could not be started: ${error.message}`)),
  ]);
  const polling = new AbortController();
  const ready: Promise<'ready'> = waitUntilReady(
    address,
    uiUrl,
    namespace,
    searchAttributes,
    startedAt + startTimeoutMs,
    polling.signal,
  );
  const outcome: 'ready' | Error = await Promise.race([ready, died])
    .finally(() => polling.abort())
    .catch((error: unknown) =>
      error instanceof SearchAttributeMismatchError
        ? failure(`is not usable: ${error.message}`)
        : failure(
            `did not become ready within ${startTimeoutMs} ms: ${error instanceof Error ? error.message : error}`,
          ),
    );
  if (outcome !== 'ready') {
    await stop();
    throw outcome;
  }
  return { address, uiUrl, namespace, dbFile, pid: child.pid!, exited, stop };
}

/**
 * Polls until the frontend serves `namespace` with every search attribute registered with the right
 * type, and the UI answers HTTP. The first successful gRPC call alone is not enough: tests would race
 * the server's own namespace and search attribute setup.
 */
async function waitUntilReady(
  address: string,
  uiUrl: string,
  namespace: string,
  searchAttributes: readonly SearchAttributeKey<SearchAttributeType>[],
  deadline: number,
  stopPolling: AbortSignal,
): Promise<'ready'> {
  let lastError: unknown = new Error('no attempt finished');
  // Stops when the server died meanwhile: the caller has already reported that.
  while (Date.now() < deadline && !stopPolling.aborted) {
    try {
      // A gRPC connect to a port nobody listens on yet waits for its whole connect timeout; a plain
      // TCP probe fails at once, so the first gRPC attempt happens when it can succeed.
      await probeTcp(address);
      await checkFrontend(address, namespace, searchAttributes);
      const response: Response = await fetch(uiUrl, { signal: AbortSignal.timeout(2_000) });
      if (!response.ok) throw new Error(`Temporal UI answered ${response.status}`);
      return 'ready';
    } catch (error) {
      if (error instanceof SearchAttributeMismatchError) throw error;
      lastError = error;
    }
    await sleep(100);
  }
  throw lastError;
}

class SearchAttributeMismatchError extends Error {}

function probeTcp(address: string): Promise<void> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise<void>((resolveProbe, reject) => {
    const socket = connect({ host, port: Number(port), timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolveProbe();
    });
    socket.once('timeout', () => socket.destroy(new Error(`TCP connect to ${address} timed out`)));
    socket.once('error', reject);
  });
}

async function checkFrontend(
  address: string,
  namespace: string,
  searchAttributes: readonly SearchAttributeKey<SearchAttributeType>[],
): Promise<void> {
  // A fresh connection per attempt: a channel that saw "connection refused" backs off before retrying.
  const connection: Connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    // Mismatches first: the CLI then registers none of the attributes, so waiting would be in vain.
    for (const key of searchAttributes) {
      const registered: number | undefined = customAttributes?.[key.name] ?? undefined;
      if (registered !== undefined && registered !== encodeSearchAttributeIndexedValueType(key.type)) {
        // The CLI silently keeps an existing registration of another type in a reused SQLite file.
        throw new SearchAttributeMismatchError(
          `search attribute ${key.name} is registered with another type than ${key.type} in namespace ${namespace}` +
            ' (a database file from an older version? delete it or pass another dbFile)',
        );
      }
    }
    const missing: string[] = searchAttributes
      .map((key) => key.name)
      .filter((name) => !customAttributes?.[name]);
    if (missing.length > 0) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
  } finally {
    await connection.close();
  }
}
