// A long-lived owner does not outgrow its history (issue 10.6): the group call's owner after a
// `stay` transfer continues as new when Temporal suggests it, carrying who is present, and still
// hangs up when the bot is left alone. The dev server here suggests continue-as-new after 200
// events, so that two thousand roster updates through one call cross it several times.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { GraphNotification, Participant } from '../src/graph/index.js';
import { type DevServer, startDevServer } from '../src/temporal/dev-server.js';
import type { botCall } from '../src/workflows/bot-call/bot-call.js';
import {
  BOT_CALL_WORKFLOW_TYPE,
  botCallStateQuery,
  botCallWorkflowId,
  hangUpSignal,
} from '../src/workflows/bot-call/definitions.js';
import { graphNotificationsSignal, transferStateQuery } from '../src/workflows/definitions.js';
import type { GroupCallOwnerResult } from '../src/workflows/group-call-owner/group-call-owner.js';
import { type BotReceiver, startBotReceiver } from './support/bot-receiver.js';
import { placeUnhandledCall, startTransferWithClient } from './support/flow-properties.js';
import {
  buildTestWorkflowBundle,
  type HandoffTestStack,
  startHandoffTestStack,
  type TestWorkflowBundle,
  waitUntil,
} from './support/handoff-stack.js';
import { stackCallbackUri } from './support/webhook-fixtures.js';

let dataDir: string;
let server: DevServer;
let bundle: TestWorkflowBundle;
let stack: HandoffTestStack;
let receiver: BotReceiver;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'handoff-can-temporal-'));
  [server, bundle] = await Promise.all([
    startDevServer({
      dbFile: join(dataDir, 'temporal.db'),
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': '200' },
    }),
    buildTestWorkflowBundle(),
  ]);
  stack = await startHandoffTestStack({ temporal: server, workflowBundlePath: bundle.path });
  receiver = await startBotReceiver();
}, 120_000);

afterAll(async () => {
  await receiver?.stop();
  await stack?.stop();
  await server?.stop();
  bundle?.remove();
  rmSync(dataDir, { recursive: true, force: true });
});

const participant = (id: string, identity: Participant['info']['identity']): Participant =>
  ({ id, info: { identity } }) as Participant;

function roster(callId: string, participants: Participant[]): GraphNotification {
  return {
    kind: 'participants',
    changeType: 'updated',
    callId,
    resourceUrl: `/communications/calls/${callId}/participants`,
    participants,
  };
}

it('continues as new under thousands of roster updates, keeps the call, and hangs up once the bot is alone', async () => {
  const callId = await placeUnhandledCall(stack, receiver.callbackUrl());
  const workflowId = await startTransferWithClient(stack, callId, {
    botLegAfterTransfer: 'stay',
    stayMaxDurationMs: 10 * 60_000,
  });
  const handle = stack.handle(workflowId);
  const holding = await waitUntil(
    'the owner holding the group call',
    async () => {
      const snapshot = await handle.query(transferStateQuery).catch(() => undefined);
      return snapshot?.phase === 'holdingGroupCall' ? snapshot : undefined;
    },
    { timeoutMs: 60_000 },
  );
  const groupCallId = holding.result.groupCallId!;
  const firstOwnerRun = await waitUntil('the first owner run', async () => {
    const description = await handle.describe();
    return description.type === 'groupCallOwner' ? description.runId : undefined;
  });
  const bot = participant('bot-participant', { application: { id: stack.sim.botAppId } });
  const guests = Array.from({ length: 20 }, (_, index) =>
    participant(`guest-${index}`, { user: { id: `guest-${index}` } }),
  );

  // 2,000 roster updates (people coming and going, never the bot alone) in 200 signals.
  for (let batch = 0; batch < 20; batch++) {
    await Promise.all(
      Array.from({ length: 10 }, (_, signal) =>
        handle.signal(graphNotificationsSignal, {
          receivedAt: new Date().toISOString(),
          notifications: Array.from({ length: 10 }, (_, update) => {
            const n = batch * 100 + signal * 10 + update;
            return roster(groupCallId, [bot, guests[n % 20]!, guests[(n + 7) % 20]!]);
          }),
        }),
      ),
    );
  }
  const described = await waitUntil(
    'a continued-as-new owner run',
    async () => {
      const description = await handle.describe();
      return description.runId !== firstOwnerRun && description.type === 'groupCallOwner'
        ? description
        : undefined;
    },
    { timeoutMs: 60_000 },
  );
  expect(described.status.name).toBe('RUNNING');
  expect(stack.sim.getCall(groupCallId)?.deleted).toBe(false);

  // Everyone leaves but the bot, on both roster paths (the caller was reported on the P2P call's).
  await handle.signal(graphNotificationsSignal, {
    receivedAt: new Date().toISOString(),
    notifications: [roster(groupCallId, [bot]), roster(callId, [])],
  });
  const result = (await handle.result()) as unknown as GroupCallOwnerResult;
  expect(result).toMatchObject({ groupCallId, endedBy: 'botAlone', transfer: { outcome: 'completed' } });
  expect(result.generation).toBeGreaterThanOrEqual(1);
  await stack.sim.whenIdle();
  expect(stack.sim.getCall(groupCallId)).toMatchObject({ deleted: true, terminationReason: 'AppInitiated' });
}, 240_000);

it('botCall continues as new under thousands of roster updates, carrying the roster, and still hangs up on request', async () => {
  const workflowId = botCallWorkflowId(`can-${Date.now()}`);
  const handle = await stack.client.workflow.start<typeof botCall>(BOT_CALL_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: stack.taskQueue,
    args: [
      {
        request: {
          kind: 'meeting',
          chatInfo: { threadId: `19:meeting_${workflowId}@thread.v2`, messageId: '0' },
          organizer: { user: { id: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96', displayName: 'Bob' } },
          media: { kind: 'none' },
        },
        callbackUri: stackCallbackUri(stack, workflowId),
        botAppId: stack.sim.botAppId,
        tenantId: stack.sim.tenantId,
      },
    ],
  });
  const { callId, firstRun } = await waitUntil('the bot call established', async () => {
    const snapshot = await handle.query(botCallStateQuery);
    return snapshot.phase === 'established'
      ? { callId: snapshot.callId!, firstRun: (await handle.describe()).runId }
      : undefined;
  });
  const guests = Array.from({ length: 20 }, (_, index) =>
    participant(`guest-${index}`, { user: { id: `guest-${index}` } }),
  );
  for (let batch = 0; batch < 20; batch++) {
    await Promise.all(
      Array.from({ length: 10 }, (_, signal) =>
        handle.signal(graphNotificationsSignal, {
          receivedAt: new Date().toISOString(),
          notifications: Array.from({ length: 10 }, (_, update) =>
            roster(callId, [guests[(batch * 100 + signal * 10 + update) % 20]!]),
          ),
        }),
      ),
    );
  }
  await waitUntil(
    'a continued-as-new botCall run',
    async () => ((await handle.describe()).runId !== firstRun ? true : undefined),
    { timeoutMs: 60_000 },
  );
  // The new run holds the same call and knows who was in it.
  const state = await handle.query(botCallStateQuery);
  expect(state).toMatchObject({ phase: 'established', callId });
  // Every guest, and the bot's own participant the simulator reported when the call was established.
  const joined = state.roster.filter((party) => party.joined).map((party) => party.id);
  expect(joined).toEqual(expect.arrayContaining(guests.map((guest) => guest.id!)));
  expect(joined).toHaveLength(guests.length + 1);
  expect(stack.sim.getCall(callId)?.deleted).toBe(false);
  await handle.signal(hangUpSignal);
  const result = await handle.result();
  expect(result).toMatchObject({ outcome: 'ended', callId, reason: 'hung up on request' });
  expect(result.timings.establishedAt).toEqual(expect.any(Number));
  const hangUps = stack.sim.requests.filter(
    (request) => request.method === 'DELETE' && request.path.endsWith(`/calls/${callId}`),
  );
  expect(hangUps).toHaveLength(1);
}, 240_000);
