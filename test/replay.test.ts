// Replay testing (design.md, "Inspecting and replaying"): the committed histories in test/histories
// must replay against the current workflow code, a deliberately reordered workflow must not, and
// `npm run replay` does the same for histories fetched from a running server.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RecordedTransfer,
  type RecordingStack,
  recordBotCallInvite,
  recordCompletedTransfer,
  recordFailedTransfer,
  startRecordingStack,
} from '../scripts/record-histories.js';
import {
  DEFAULT_REPLAY_LIMIT,
  DEFAULT_REPLAY_QUERY,
  eventTypes,
  historyFromJSON,
  historyToJSON,
  parseReplayArgs,
  ReplayUsageError,
  readHistoryDir,
  replayHistories,
  type WorkflowCode,
} from '../src/bin/replay.js';
import { projectRoot } from '../src/temporal/project-root.js';
import { workflowBundleOptions } from '../src/worker/worker.js';

// Workers log every workflow phase at INFO, and core logs each nondeterminism this file provokes on
// purpose at WARN: keep the output to what is unexpected. The Runtime is per process and may exist.
try {
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'WARN' } } },
  });
} catch {
  // Already installed: keep that one.
}

const historiesDir = fileURLToPath(new URL('./histories/', import.meta.url));
// Every workflow type with committed histories, each sending another first Graph request.
const reorderedWorkflowsPath = fileURLToPath(new URL('./support/workflows/reordered.ts', import.meta.url));
/** The first activity each workflow of reordered.ts schedules. */
const reorderedFirstActivity: Record<string, string> = {
  transferCall: 'createCall',
  botCall: 'getCall',
  strayCall: 'hangUp',
  groupCallOwner: 'getCall',
  incomingCall: 'getCall',
  routeCall: 'getCall',
  nativeTransfer: 'transferCall',
};
// Read while collecting tests: a file that is not a history fails the whole file, naming it.
const committed = readHistoryDir(historiesDir);

// Both bundles are built once for the file: bundling is the slow part of a replay.
const bundleDir = mkdtempSync(join(tmpdir(), 'handoff-replay-test-'));
const currentBundlePath = join(bundleDir, 'current.cjs');
const reorderedBundlePath = join(bundleDir, 'reordered.cjs');
const currentCode: WorkflowCode = { workflowBundle: { codePath: currentBundlePath } };
const reorderedCode: WorkflowCode = { workflowBundle: { codePath: reorderedBundlePath } };

beforeAll(async () => {
  const logger = new DefaultLogger('WARN');
  writeFileSync(currentBundlePath, (await bundleWorkflowCode({ ...workflowBundleOptions, logger })).code);
  writeFileSync(
    reorderedBundlePath,
    (await bundleWorkflowCode({ workflowsPath: reorderedWorkflowsPath, logger })).code,
  );
});

afterAll(() => rmSync(bundleDir, { recursive: true, force: true }));

function lastEvent(history: History) {
  return history.events?.at(-1);
}

function scheduledActivities(history: History): string[] {
  return (history.events ?? []).flatMap((event) => {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}

/** Local activities (the answer under patch `local-answer`) by type: their markers' `activity_type`. */
function localActivities(history: History): Array<{ type: string; failed: boolean }> {
  return (history.events ?? []).flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    const data =
      marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
    if (!data) return [];
    const { activity_type: type } = JSON.parse(Buffer.from(data).toString('utf8')) as {
      activity_type: string;
    };
    return [{ type, failed: Boolean(marker?.failure) }];
  });
}

/** Whether the history's first Graph request was a local activity rather than an activity. */
function firstRequestIsLocal(history: History): boolean {
  for (const event of history.events ?? []) {
    if (event.activityTaskScheduledEventAttributes) return false;
    if (event.markerRecordedEventAttributes?.markerName === 'core_local_activity') return true;
  }
  return false;
}

function committedHistory(workflowId: string): History {
  const found = committed.find((item) => item.workflowId === workflowId);
  if (!found)
    throw new Error(`test/histories/${workflowId}.json is missing: run \`npm run record:histories\``);
  return found.history as History;
}

describe('the committed histories in test/histories', () => {
  it('are the seed transfer, completed, and a transfer that failed and hung up its group call', () => {
    expect(committed.map((item) => item.workflowId)).toEqual(
      expect.arrayContaining(['transfer-completed', 'transfer-failed']),
    );

    const completed = committedHistory('transfer-completed');
    expect(eventTypes(completed)[0]).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
    expect(completed.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe(
      'transferCall',
    );
    expect(scheduledActivities(completed)).toEqual(['answerCall', 'createCall', 'inviteParticipants']);
    expect(eventTypes(completed).at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');

    const failed = committedHistory('transfer-failed');
    expect(scheduledActivities(failed)).toEqual(['answerCall', 'createCall', 'inviteParticipants', 'hangUp']);
    expect(eventTypes(failed).at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
    expect(
      lastEvent(failed)?.workflowExecutionFailedEventAttributes?.failure?.applicationFailureInfo?.type,
    ).toBe('TransferFailed');
  });

  it('include every issue 5 flow: the botCall operations, the guest lobby, a transfer of a call answered elsewhere', () => {
    const expected: Record<string, { activities: string[]; update?: string }> = {
      'transfer-answered-elsewhere': {
        activities: ['getCall', 'createCall', 'inviteParticipants', 'getCall'],
      },
      'bot-call-invite': {
        activities: ['createCall', 'inviteParticipants', 'hangUp'],
        update: 'inviteParticipants',
      },
      'bot-call-transfer-in': {
        activities: ['createCall', 'inviteParticipants', 'getCall', 'hangUp'],
        update: 'transferIntoCall',
      },
      'bot-call-move': {
        activities: ['createCall', 'inviteParticipants', 'hangUp'],
        update: 'moveParticipant',
      },
      'bot-call-move-source': {
        activities: ['createCall', 'inviteParticipants', 'hangUp'],
        update: 'inviteParticipants',
      },
      'bot-call-guest-lobby': { activities: ['createCall', 'hangUp'] },
      'bot-call-blind-transfer': {
        activities: ['createCall', 'transferCall', 'hangUp'],
        update: 'transferParticipant',
      },
    };
    for (const [name, { activities, update }] of Object.entries(expected)) {
      const history = committedHistory(name);
      expect({ name, activities: scheduledActivities(history) }).toEqual({ name, activities });
      expect(eventTypes(history).at(-1), name).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
      const updates = (history.events ?? []).flatMap((event) => {
        const updateName = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
        return updateName ? [updateName] : [];
      });
      expect({ name, updates }).toEqual({ name, updates: update ? [update] : [] });
    }
  });

  it('include every call-ownership path (issue 10): leave, the caller hung up after a failure, a stray call, stay and its owner, a botCall continued as new', () => {
    const expected: Record<string, { type: string; activities: string[]; last: string }> = {
      'transfer-leave': {
        type: 'transferCall',
        activities: ['answerCall', 'createCall', 'inviteParticipants', 'hangUp'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      },
      'transfer-failed-hang-up-caller': {
        type: 'transferCall',
        activities: ['answerCall', 'createCall', 'inviteParticipants', 'hangUp', 'hangUp'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED',
      },
      'stray-call': {
        type: 'strayCall',
        activities: ['getCall', 'hangUp'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      },
      'transfer-stay': {
        type: 'transferCall',
        activities: ['getCall', 'getCall', 'createCall', 'getCall', 'inviteParticipants', 'getCall'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
      },
      'group-call-owner': {
        type: 'groupCallOwner',
        activities: ['hangUp'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      },
      'bot-call-continued-as-new': {
        type: 'botCall',
        activities: ['createCall'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
      },
      'bot-call-resumed': {
        type: 'botCall',
        activities: ['hangUp'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      },
      'incoming-call-redirect': {
        type: 'incomingCall',
        activities: ['redirectCall'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      },
      'incoming-call-reject': {
        type: 'incomingCall',
        activities: ['rejectCall'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      },
      'native-transfer-blind': {
        type: 'nativeTransfer',
        activities: ['answerCall', 'transferCall'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      },
      'native-transfer-consultative': {
        type: 'nativeTransfer',
        activities: ['answerCall', 'createCall', 'transferCall'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      },
      'native-transfer-failed': {
        type: 'nativeTransfer',
        activities: ['answerCall', 'transferCall', 'hangUp'],
        last: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
      },
    };
    for (const [name, { type, activities, last }] of Object.entries(expected)) {
      const history = committedHistory(name);
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      expect({ name, type: started?.workflowType?.name, activities: scheduledActivities(history) }).toEqual({
        name,
        type,
        activities,
      });
      expect(eventTypes(history).at(-1), name).toBe(last);
    }
    // The patches that guard the new commands are in the histories that took the new paths.
    const markers = (name: string) =>
      (committedHistory(name).events ?? []).filter((event) => event.markerRecordedEventAttributes).length;
    expect(markers('transfer-leave')).toBeGreaterThan(0);
    expect(markers('transfer-failed-hang-up-caller')).toBeGreaterThan(0);
    expect(markers('transfer-stay')).toBeGreaterThan(0);
    expect(markers('bot-call-continued-as-new')).toBeGreaterThan(0);
  });

  it('include a transfer with one search-attribute upsert per phase change that matters (issue 12, patch fewer-search-attribute-upserts)', () => {
    // Handoff's own upserts; the SDK adds a TemporalChangeVersion upsert of its own per new patch.
    const upserts = (name: string) =>
      (committedHistory(name).events ?? []).filter((event) =>
        Object.keys(
          event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
        ).some((key) => key.startsWith('Handoff')),
      );
    const patches = (name: string) =>
      (committedHistory(name).events ?? []).flatMap((event) => {
        const data = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
        return data ? [Buffer.from(data).toString('utf8')] : [];
      });
    const lean = 'transfer-fewer-upserts';
    expect(patches(lean).some((data) => data.includes('fewer-search-attribute-upserts'))).toBe(true);
    expect(patches('transfer-leave').some((data) => data.includes('fewer-search-attribute-upserts'))).toBe(
      false,
    );
    const started = committedHistory(lean).events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(started?.workflowType?.name).toBe('transferCall');
    expect(scheduledActivities(committedHistory(lean))).toEqual(
      scheduledActivities(committedHistory('transfer-leave')),
    );
    // answering (set at start) and leavingGroupCall are not upserted: two fewer than transfer-leave.
    expect(upserts(lean).length).toBe(upserts('transfer-leave').length - 2);
  });

  it('include a transfer whose answer is a local activity (issue 12, row 3, patch local-answer)', () => {
    const patches = (name: string) =>
      (committedHistory(name).events ?? []).flatMap((event) => {
        const data = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
        return data ? [JSON.parse(Buffer.from(data).toString('utf8')).id as string] : [];
      });
    const local = 'transfer-local-answer';
    expect(patches(local)).toContain('local-answer');
    for (const before of ['transfer-completed', 'transfer-leave', 'transfer-fewer-upserts']) {
      expect({ before, patches: patches(before) }).not.toEqual({
        before,
        patches: expect.arrayContaining(['local-answer']),
      });
      expect(localActivities(committedHistory(before))).toEqual([]);
    }
    const history = committedHistory(local);
    expect(history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name).toBe(
      'transferCall',
    );
    // The answer is one marker; createCall, invite and the bot's hang-up stay activities.
    expect(localActivities(history)).toEqual([{ type: 'answerCall', failed: false }]);
    expect(scheduledActivities(history)).toEqual(['createCall', 'inviteParticipants', 'hangUp']);
    expect(firstRequestIsLocal(history)).toBe(true);
    expect(eventTypes(history).at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    // Fewer events and workflow tasks than the same transfer with the answer as an activity.
    const tasks = (events: string[]) =>
      events.filter((type) => type === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
    const activityAnswer = eventTypes(committedHistory('transfer-fewer-upserts'));
    expect(eventTypes(history).length).toBeLessThan(activityAnswer.length);
    expect(tasks(eventTypes(history)).length).toBe(tasks(activityAnswer).length - 1);
  });

  it('survive a round trip through the JSON form unchanged', () => {
    for (const { history } of committed) {
      const again = historyFromJSON(JSON.parse(historyToJSON(history as History)));
      expect(historyToJSON(again)).toBe(historyToJSON(history as History));
    }
  });

  it.each(committed.map((item) => [item.workflowId, item] as const))(
    '%s replays against the current workflow code',
    async (_name, item) => {
      const [result] = await replayHistories([item], currentCode);
      expect(result?.workflowId).toBe(item.workflowId);
      // The replay error itself (e.g. DeterminismViolationError: ...) is the most useful failure message.
      if (result?.error) throw result.error;
    },
  );

  it.each(committed.map((item) => [item.workflowId, item] as const))(
    '%s does not replay against a workflow that sends its Graph requests in another order',
    async (_name, item) => {
      const history = item.history as History;
      const workflowType = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      const reorderedFirst = reorderedFirstActivity[workflowType ?? ''];
      expect(
        reorderedFirst,
        `no reordered ${workflowType} in test/support/workflows/reordered.ts`,
      ).toBeDefined();
      const [result] = await replayHistories([item], reorderedCode);
      expect(result?.error).toBeInstanceOf(DeterminismViolationError);
      const [firstScheduled] = scheduledActivities(history);
      // A local activity's marker where the reordered code schedules an activity: core finds no
      // local activity command for the marker. A run that sent no Graph request (a routeCall that
      // rejects at once) is caught on its first command that differs, whichever it is.
      expect(result?.error?.message).toContain(
        firstRequestIsLocal(history)
          ? 'Missing associated machine for LocalActivity('
          : firstScheduled
            ? `Activity type of scheduled event '${firstScheduled}' does not match activity type of activity command '${reorderedFirst}'`
            : 'Nondeterminism error',
      );
    },
  );
});

describe('npm run replay arguments', () => {
  it('default to the environment, every Handoff workflow type and 50 of them', () => {
    expect(parseReplayArgs([], { TEMPORAL_ADDRESS: '10.0.0.5:7233', TEMPORAL_NAMESPACE: 'handoff' })).toEqual(
      {
        address: '10.0.0.5:7233',
        namespace: 'handoff',
        query: DEFAULT_REPLAY_QUERY,
        limit: DEFAULT_REPLAY_LIMIT,
        workflowIds: [],
      },
    );
    expect(DEFAULT_REPLAY_QUERY).toBe(
      "WorkflowType IN ('botCall', 'groupCallOwner', 'incomingCall', 'nativeTransfer', 'routeCall', 'strayCall', 'transferCall')",
    );
    const parsed = parseReplayArgs(
      ['--address', '127.0.0.1:7999', '--workflow-id', 'a', '--workflow-id', 'b'],
      {},
    );
    expect(parsed).toMatchObject({
      address: '127.0.0.1:7999',
      namespace: 'default',
      workflowIds: ['a', 'b'],
    });
  });

  it.each([
    [['--limit', '0'], /--limit must be a positive whole number, got "0"/],
    [['--limit', 'ten'], /--limit must be a positive whole number/],
    [['--address', 'localhost'], /--address must be HOST:PORT/],
    [['--query', "WorkflowId='x'", '--workflow-id', 'x'], /either --query or --workflow-id/],
    [['--unknown'], /Unknown option '--unknown'/],
  ])('reject %j with a message that names the option', (argv, message) => {
    expect(() => parseReplayArgs(argv, {})).toThrow(ReplayUsageError);
    expect(() => parseReplayArgs(argv, {})).toThrow(message);
  });
});

interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run replay -- ...args` as a child process, without the TEMPORAL_* settings of this shell. */
function replayCommand(args: string[]): Promise<CommandRun> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin/replay.ts', ...args], {
    cwd: projectRoot(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    signal: AbortSignal.timeout(110_000),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolveRun) => {
    child.on('error', (error) => {
      stderr += String(error);
    });
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** Visibility lags behind history on some servers: wait until the list shows what was recorded. */
async function untilListed(client: Client, query: string, count: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await client.workflow.count(query)).count >= count) return;
    await sleep(100);
  }
  throw new Error(`the server never listed ${count} workflows for ${query}`);
}

describe('npm run replay against a running Temporal server', () => {
  let stack: RecordingStack;
  let saveDir: string;
  const recorded: RecordedTransfer[] = [];

  beforeAll(async () => {
    saveDir = mkdtempSync(join(tmpdir(), 'handoff-replay-saved-'));
    stack = await startRecordingStack({ workflowBundlePath: currentBundlePath });
    recorded.push(await recordCompletedTransfer(stack, 'replay-command-completed-1'));
    recorded.push(await recordCompletedTransfer(stack, 'replay-command-completed-2'));
    recorded.push(await recordFailedTransfer(stack, 'replay-command-failed'));
    recorded.push(await recordBotCallInvite(stack, 'replay-command-bot-call'));
    await untilListed(stack.client, `${DEFAULT_REPLAY_QUERY} AND ExecutionStatus != 'Running'`, 4);
  });

  afterAll(async () => {
    await stack?.stop();
    if (saveDir) rmSync(saveDir, { recursive: true, force: true });
  });

  it('records the same transfer twice with the same shape', () => {
    const [first, second, failed] = recorded as [RecordedTransfer, RecordedTransfer, RecordedTransfer];
    expect(recorded.map((item) => item.workflowId)).toContain('call-replay-command-bot-call');
    expect(eventTypes(second.history)).toEqual(eventTypes(first.history));
    expect(eventTypes(failed.history).at(-1)).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_FAILED');
  });

  it('replays every workflow on the server, of every type, against the current code and saves their histories', async () => {
    const run = await replayCommand([
      '--address',
      stack.temporalAddress,
      '--namespace',
      stack.namespace,
      '--save',
      saveDir,
    ]);
    expect(run.stderr).toBe('');
    for (const { workflowId } of recorded) {
      expect(run.stdout).toMatch(
        new RegExp(`^ok +${workflowId} \\(run [0-9a-f-]+\\): \\d+ events, saved to `, 'm'),
      );
    }
    expect(run.stdout).toMatch(
      /replayed 4 workflow histories against the current workflow code: 4 ok, 0 failed/,
    );
    expect(run.code).toBe(0);

    const saved = readHistoryDir(saveDir);
    expect(saved.map((item) => item.workflowId).sort()).toEqual(
      recorded.map((item) => item.workflowId).sort(),
    );
    for (const { workflowId, history } of recorded) {
      const copy = saved.find((item) => item.workflowId === workflowId)!.history as History;
      expect(eventTypes(copy)).toEqual(eventTypes(history));
    }
  }, 120_000);

  it('reports a workflow whose code changed and one it cannot fetch, and exits non-zero', async () => {
    const [completed] = recorded as [RecordedTransfer];
    const run = await replayCommand([
      '--address',
      stack.temporalAddress,
      '--bundle',
      reorderedBundlePath,
      '--workflow-id',
      completed.workflowId,
      '--workflow-id',
      'transfer-no-such-call',
    ]);
    expect(run.stdout).toMatch(
      new RegExp(
        `^FAILED +${completed.workflowId}: DeterminismViolationError: \\[TMPRL1100\\] Nondeterminism error: ` +
          // Recorded with the current code: the answer is a local activity (patch local-answer).
          'Missing associated machine for LocalActivity\\(1\\)$',
        'm',
      ),
    );
    expect(run.stdout).toMatch(/^FAILED +transfer-no-such-call: Error: could not fetch its history: /m);
    expect(run.stdout).toMatch(
      /replayed 2 workflow histories against bundle .*reordered\.cjs: 0 ok, 2 failed/,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
  }, 120_000);

  it('exits non-zero when no workflow matches the query', async () => {
    const run = await replayCommand([
      '--address',
      stack.temporalAddress,
      '--query',
      "WorkflowId='transfer-no-such-call'",
    ]);
    expect(run.stdout).toMatch(/no workflows in namespace default match WorkflowId='transfer-no-such-call'/);
    expect(run.code).toBe(1);
  });

  it('exits with 2 and the usage on a bad argument', async () => {
    const run = await replayCommand(['--limit', '0']);
    expect(run.stderr).toMatch(/--limit must be a positive whole number, got "0"/);
    expect(run.code).toBe(2);
  });
});
