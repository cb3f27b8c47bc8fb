/**
 * `npm run replay`: fetches workflow histories from a running Temporal server and replays them
 * against the current workflow code (design.md, "Inspecting and replaying"). A history that no
 * longer replays means a deploy of this code would break the workflows that are still running
 * (nondeterminism): change the workflow with `patched()` instead.
 *
 *   npm run replay -- [--address 127.0.0.1:7233] [--namespace default]
 *                     [--query "WorkflowType='transferCall'"] [--limit 50] [--workflow-id ID ...]
 *                     [--save DIR] [--bundle PATH]
 *
 * Without --query or --workflow-id: every Handoff workflow type (transferCall, botCall).
 *
 * One line per workflow (`ok` or `FAILED` with the reason), then a summary. Exit code 0 only
 * when at least one history was replayed and every one replayed; 2 for bad arguments.
 * `--save DIR` writes each fetched history as JSON: that is how a history gets committed to
 * test/histories, where test/replay.test.ts replays it on every test run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Client, HistoryAndWorkflowId } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import {
  DefaultLogger,
  type ReplayResult,
  Runtime,
  Worker,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { ConfigError, loadConfig } from '../config/env.js';
import { connectClient } from '../temporal/connection.js';
import { workflowInterceptorModules, workflowPreloadModules, workflowsPath } from '../worker/worker.js';
import { handoffWorkflowSinks } from '../worker/workflow-sinks.js';
import * as handoffWorkflows from '../workflows/index.js';

/** Every workflow type the worker registers (the bundle's entry point exports exactly those). */
export const HANDOFF_WORKFLOW_TYPES: readonly string[] = Object.keys(handoffWorkflows).sort();

/** Every Handoff workflow type: a change to any of them can break the runs still in flight. */
export const DEFAULT_REPLAY_QUERY = `WorkflowType IN (${HANDOFF_WORKFLOW_TYPES.map((type) => `'${type}'`).join(', ')})`;
export const DEFAULT_REPLAY_LIMIT = 50;

/** The workflow code to replay against: the sources (bundled on the fly) or a prebuilt bundle. */
export type WorkflowCode = { workflowsPath: string } | { workflowBundle: WorkflowBundleOption };

/** The sources of src/workflows, as the worker runs them. */
export const currentWorkflowCode: WorkflowCode = { workflowsPath };

export interface ReplayOutcome {
  workflowId: string;
  runId?: string;
  /** Why it did not replay: a DeterminismViolationError, a ReplayError, or a fetch failure. */
  error?: Error;
  events?: number;
  savedTo?: string;
}

/**
 * Replays each history against `code` with one replay worker. No server is involved. The results
 * come in input order; `error` is set for every history the code does not reproduce.
 */
export async function replayHistories(
  histories: readonly HistoryAndWorkflowId[],
  code: WorkflowCode = currentWorkflowCode,
): Promise<ReplayResult[]> {
  if (histories.length === 0) return [];
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories(
    {
      ...code,
      // As a worker runs them: a bundle has the interceptors in it, the sources get them here.
      ...('workflowsPath' in code
        ? {
            interceptors: { workflowModules: workflowInterceptorModules },
            bundlerOptions: { preloadModules: workflowPreloadModules },
          }
        : {}),
      sinks: handoffWorkflowSinks({}),
      replayName: 'handoff-replay',
    },
    histories,
  )) {
    results.push(result);
  }
  return results;
}

/**
 * Temporal's JSON form of a history (proto3 JSON: what `temporal workflow show --output json` and
 * the Temporal UI's download write). The SDK's own historyToJSON/historyFromJSON
 * (@temporalio/common/lib/proto-utils) throw "type must be a Type" in this install: npm put
 * protobufjs 7 (for @grpc/proto-loader) at the top level and gave @temporalio/proto, common and
 * worker a nested protobufjs 8 each, so common's converter rejects the types proto built with
 * another copy. Converting with the copy @temporalio/proto itself loads works whatever the layout.
 */
interface ProtoJson {
  toJson(type: unknown, message: History): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): History;
}

const { protojson, historyType } = (() => {
  const requireFromCommon = createRequire(createRequire(import.meta.url).resolve('@temporalio/common'));
  const protoEntry = requireFromCommon.resolve('@temporalio/proto');
  const { patchProtobufRoot } = requireFromCommon('@temporalio/proto/lib/patch-protobuf-root') as {
    patchProtobufRoot(root: unknown): { lookupType(name: string): { fromObject(history: History): History } };
  };
  return {
    protojson: createRequire(protoEntry)('protobufjs/ext/protojson') as ProtoJson,
    historyType: patchProtobufRoot(requireFromCommon(protoEntry)).lookupType(
      'temporal.api.history.v1.History',
    ),
  };
})();

/** `history` as Temporal's JSON history text, indented for review in a diff. */
export function historyToJSON(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, historyType.fromObject(history)), null, 2);
}

/**
 * A history from Temporal's JSON form. Also reads the older form with PascalCase enum names
 * (`"eventType": "WorkflowExecutionStarted"`) that tctl and the old web UI exported.
 */
export function historyFromJSON(json: unknown): History {
  const events = (json as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length === 0) {
    throw new TypeError('expected an object with a non-empty "events" array');
  }
  return protojson.fromJson(
    historyType,
    { events: events.map(modernEnumNames) },
    { ignoreUnknownFields: true },
  );
}

function modernEnumNames(event: Record<string, unknown>): Record<string, unknown> {
  const constantCase = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  const fix = (value: unknown, prefix: string) =>
    typeof value === 'string' && !value.startsWith(prefix) ? `${prefix}_${constantCase(value)}` : value;
  const fixed: Record<string, unknown> = { ...event, eventType: fix(event.eventType, 'EVENT_TYPE') };
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventAttributes') || typeof value !== 'object' || value === null) continue;
    const attributes = { ...(value as Record<string, unknown>) };
    const taskQueue = attributes.taskQueue as Record<string, unknown> | undefined;
    if (taskQueue?.kind !== undefined)
      attributes.taskQueue = { ...taskQueue, kind: fix(taskQueue.kind, 'TASK_QUEUE_KIND') };
    for (const [field, prefix] of [
      ['parentClosePolicy', 'PARENT_CLOSE_POLICY'],
      ['workflowIdReusePolicy', 'WORKFLOW_ID_REUSE_POLICY'],
      ['initiator', 'CONTINUE_AS_NEW_INITIATOR'],
      ['retryState', 'RETRY_STATE'],
    ] as const) {
      if (attributes[field] !== undefined) attributes[field] = fix(attributes[field], prefix);
    }
    fixed[key] = attributes;
  }
  return fixed;
}

/** The event types of a history in order, e.g. `EVENT_TYPE_WORKFLOW_EXECUTION_STARTED`: its shape. */
export function eventTypes(history: History): string[] {
  const json = JSON.parse(historyToJSON(history)) as { events?: Array<{ eventType?: string }> };
  return (json.events ?? []).map((event) => event.eventType ?? 'EVENT_TYPE_UNSPECIFIED');
}

/** Reads a history file as Temporal tools write it (`{ "events": [...] }`); the error names the file. */
export function readHistoryFile(path: string): History {
  try {
    return historyFromJSON(JSON.parse(readFileSync(path, 'utf8')));
  } catch (error) {
    throw new Error(
      `${path} is not a Temporal history in JSON (${error instanceof Error ? error.message : String(error)}); ` +
        'write one with `npm run replay -- --save DIR` or `npm run record:histories`',
    );
  }
}

/**
 * Every `*.json` history in `dir`, named by its file: `transfer-completed.json` replays as workflow
 * `transfer-completed`. Sorted, so that runs and messages are stable.
 */
export function readHistoryDir(dir: string): HistoryAndWorkflowId[] {
  return readdirSync(dir)
    .filter((file) => extname(file) === '.json')
    .sort()
    .map((file) => ({ workflowId: basename(file, '.json'), history: readHistoryFile(join(dir, file)) }));
}

/** Writes `history` as `<dir>/<name>.json`, formatted for review in a diff. Returns the path. */
export function writeHistoryFile(dir: string, name: string, history: History): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name.replace(/[^\w.-]/g, '_')}.json`);
  writeFileSync(path, `${historyToJSON(history)}\n`);
  return path;
}

export interface ReplayCommandOptions {
  address: string;
  namespace: string;
  query: string;
  limit: number;
  /** When given, exactly these workflows (their latest runs) instead of a query. */
  workflowIds: string[];
  saveDir?: string;
  bundlePath?: string;
}

/** Bad command-line input: the message says which option and what it expects. */
export class ReplayUsageError extends Error {
  override readonly name = 'ReplayUsageError';
}

export const replayUsage = `usage: npm run replay -- [options]
  --address HOST:PORT   Temporal frontend (default: TEMPORAL_ADDRESS, else 127.0.0.1:7233)
  --namespace NAME      (default: TEMPORAL_NAMESPACE, else default)
  --query QUERY         visibility query selecting the workflows (default: ${DEFAULT_REPLAY_QUERY})
  --limit N             replay at most N workflows of the query (default: ${DEFAULT_REPLAY_LIMIT})
  --workflow-id ID      replay this workflow instead of a query; repeat for several
  --save DIR            also write each fetched history to DIR/<workflowId>.json
  --bundle PATH         replay against a prebuilt workflow bundle instead of the sources in src/workflows
TLS and API keys come from the environment as for the worker (TEMPORAL_API_KEY, TEMPORAL_TLS, ...).`;

export function parseReplayArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): ReplayCommandOptions | 'help' {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new ReplayUsageError(`${(error as Error).message}\n${replayUsage}`);
  }
  if (values.help) return 'help';
  const workflowIds = values['workflow-id'] ?? [];
  if (values.query !== undefined && workflowIds.length > 0) {
    throw new ReplayUsageError('give either --query or --workflow-id, not both');
  }
  if (values.query !== undefined && values.query.trim() === '') {
    throw new ReplayUsageError('--query must not be empty (omit it for the default query)');
  }
  const emptyId = workflowIds.find((workflowId) => workflowId.trim() === '');
  if (emptyId !== undefined) throw new ReplayUsageError('--workflow-id must not be empty');
  const limit = values.limit === undefined ? DEFAULT_REPLAY_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ReplayUsageError(`--limit must be a positive whole number, got "${values.limit}"`);
  }
  const address = values.address ?? env.TEMPORAL_ADDRESS?.trim() ?? '127.0.0.1:7233';
  if (!/^[^\s:]+:\d{1,5}$/.test(address) && !/^\[[^\]]+\]:\d{1,5}$/.test(address)) {
    throw new ReplayUsageError(`--address must be HOST:PORT such as 127.0.0.1:7233, got "${address}"`);
  }
  const namespace = values.namespace ?? (env.TEMPORAL_NAMESPACE?.trim() || 'default');
  if (namespace.trim() === '') throw new ReplayUsageError('--namespace must not be empty');
  return {
    address,
    namespace,
    query: values.query ?? DEFAULT_REPLAY_QUERY,
    limit,
    workflowIds,
    ...(values.save !== undefined ? { saveDir: resolve(values.save) } : {}),
    ...(values.bundle !== undefined ? { bundlePath: resolve(values.bundle) } : {}),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      address: { type: 'string' },
      namespace: { type: 'string' },
      query: { type: 'string' },
      limit: { type: 'string' },
      'workflow-id': { type: 'string', multiple: true },
      save: { type: 'string' },
      bundle: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** A workflow the command looked at: its history, or why it could not be fetched. */
export type FetchedHistory =
  | { workflowId: string; runId?: string; history: History }
  | { workflowId: string; runId?: string; error: Error };

/** The workflows `options` select, newest first as the server lists them, with their histories. */
export async function fetchHistories(
  client: Client,
  options: Pick<ReplayCommandOptions, 'query' | 'limit' | 'workflowIds'>,
): Promise<FetchedHistory[]> {
  const selected: Array<{ workflowId: string; runId?: string }> = [];
  if (options.workflowIds.length > 0) {
    selected.push(...options.workflowIds.map((workflowId) => ({ workflowId })));
  } else {
    for await (const execution of client.workflow.list({
      query: options.query,
      pageSize: Math.min(options.limit, 1000),
    })) {
      selected.push({ workflowId: execution.workflowId, runId: execution.runId });
      if (selected.length >= options.limit) break;
    }
  }
  const fetched: FetchedHistory[] = [];
  for (const { workflowId, runId } of selected) {
    try {
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      if (!history.events?.length) throw new Error('the server returned an empty history');
      fetched.push({ workflowId, ...(runId ? { runId } : {}), history });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      fetched.push({
        workflowId,
        ...(runId ? { runId } : {}),
        error: new Error(`could not fetch its history: ${reason}`),
      });
    }
  }
  return fetched;
}

/** Fetches, saves (with --save) and replays; `out` gets the report lines. Returns the exit code. */
export async function runReplayCommand(
  options: ReplayCommandOptions,
  out: (line: string) => void = console.log,
): Promise<number> {
  if (options.bundlePath !== undefined && !existsSync(options.bundlePath)) {
    out(
      `--bundle ${options.bundlePath} does not exist: build one with \`npm run build:workflows\` or leave --bundle out`,
    );
    return 2;
  }
  const config = loadConfig({
    ...temporalEnvironment(process.env),
    TEMPORAL_ADDRESS: options.address,
    TEMPORAL_NAMESPACE: options.namespace,
  });
  let client: Client;
  try {
    client = await connectClient(config.temporal, options.address);
  } catch (error) {
    out(
      `cannot reach Temporal at ${options.address} (--address or TEMPORAL_ADDRESS): ${(error as Error).message}`,
    );
    return 1;
  }
  let fetched: FetchedHistory[];
  try {
    fetched = await fetchHistories(client, options);
  } catch (error) {
    out(
      `cannot list workflows in namespace ${options.namespace} with query ${options.query}: ${(error as Error).message}`,
    );
    return 1;
  } finally {
    await client.connection.close();
  }
  if (fetched.length === 0) {
    out(
      `no workflows in namespace ${options.namespace} match ${options.query} on ${options.address}: nothing was replayed`,
    );
    return 1;
  }

  const outcomes: ReplayOutcome[] = [];
  const toReplay: Array<{ outcome: ReplayOutcome; history: History }> = [];
  for (const item of fetched) {
    const outcome: ReplayOutcome = {
      workflowId: item.workflowId,
      ...(item.runId ? { runId: item.runId } : {}),
    };
    outcomes.push(outcome);
    if ('error' in item) {
      outcome.error = item.error;
      continue;
    }
    outcome.events = item.history.events?.length ?? 0;
    // Saved before the replay: a history that fails is the one worth keeping.
    if (options.saveDir) outcome.savedTo = writeHistoryFile(options.saveDir, item.workflowId, item.history);
    toReplay.push({ outcome, history: item.history });
  }
  const code: WorkflowCode = options.bundlePath
    ? { workflowBundle: { codePath: options.bundlePath } }
    : currentWorkflowCode;
  const results = await replayHistories(
    toReplay.map(({ outcome, history }) => ({ workflowId: outcome.workflowId, history })),
    code,
  );
  results.forEach((result, position) => {
    const replayed = toReplay[position];
    if (replayed && result.error) replayed.outcome.error = result.error;
  });

  for (const outcome of outcomes) out(describeOutcome(outcome));
  const failed = outcomes.filter((outcome) => outcome.error).length;
  const against = options.bundlePath ? `bundle ${options.bundlePath}` : 'the current workflow code';
  out(
    `replayed ${outcomes.length} workflow ${outcomes.length === 1 ? 'history' : 'histories'} against ${against}: ` +
      `${outcomes.length - failed} ok, ${failed} failed`,
  );
  return failed === 0 ? 0 : 1;
}

export function describeOutcome(outcome: ReplayOutcome): string {
  const run = outcome.runId ? ` (run ${outcome.runId})` : '';
  const saved = outcome.savedTo ? `, saved to ${outcome.savedTo}` : '';
  if (!outcome.error) return `ok      ${outcome.workflowId}${run}: ${outcome.events} events${saved}`;
  const reason = `${outcome.error.name}: ${essence(outcome.error.message)}`.replace(/\s*\n\s*/g, ' ');
  return `FAILED  ${outcome.workflowId}${run}: ${reason}${saved}`;
}

/**
 * A nondeterminism error wraps core's message in a debug dump (`... Failure { failure: Some(Failure {
 * message: "[TMPRL1100] Nondeterminism error: Activity type of scheduled event 'answerCall' does not
 * match ..." ...`): the quoted message is what a reader needs.
 */
function essence(message: string): string {
  const quoted = /message: "((?:[^"\\]|\\.)*)"/.exec(message)?.[1];
  return quoted ? quoted.replace(/\\(.)/g, '$1') : message;
}

/** Only the Temporal connection settings: the rest of Handoff's configuration is not needed here. */
function temporalEnvironment(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('TEMPORAL_')));
}

async function main(): Promise<number> {
  let options: ReplayCommandOptions | 'help';
  try {
    options = parseReplayArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof ReplayUsageError)) throw error;
    console.error(error.message);
    return 2;
  }
  if (options === 'help') {
    console.log(replayUsage);
    return 0;
  }
  // The replay worker (and its native core) log every nondeterminism at length; the report line says it once.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  try {
    return await runReplayCommand(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
}

/** Whether this module is the script node was started with (tests import it instead). */
function invokedAsCommand(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(resolve(script)) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedAsCommand()) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(
        `replay failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exit(1);
    },
  );
}
