// Issue 9, items 3, 4 and 7, end to end: the real webhook over HTTP with JWTs the simulator signed,
// a Temporal dev server, a worker running the real workflows (plus a probe of the workflow
// sandbox's Object.prototype) against the Graph simulator.
//
// - Notifications whose ids name Object.prototype members reach a running transfer: it completes,
//   and Object.prototype in the worker's workflow sandbox (shared by every workflow on the worker)
//   and in this process is as it was.
// - A notification about a call someone else holds (another callbackUri) reaches a workflow: the
//   workflow reads the call, sees it is not its own, and leaves it alone.
// - The create-call and invite bodies Graph receives are the seed walkthrough's (seed 001), and a
//   call id given to the API as a path is made bare.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphClientFor } from '../src/app/graph.js';
import { seedMeetingTarget } from '../src/config/env.js';
import type { RequestRecord } from '../src/simulator/index.js';
import { defaultCaller } from '../src/simulator/scenarios.js';
import type { botCall } from '../src/workflows/bot-call/bot-call.js';
import {
  BOT_CALL_WORKFLOW_TYPE,
  botCallStateQuery,
  botCallWorkflowId,
  hangUpSignal,
} from '../src/workflows/bot-call/definitions.js';
import type { TransferResult } from '../src/workflows/transfer/types.js';
import { type BotReceiver, startBotReceiver } from './support/bot-receiver.js';
import {
  type HandoffTestStack,
  startHandoffTestStack,
  startTestTemporal,
  type TestTemporal,
  waitUntil,
} from './support/handoff-stack.js';
import { prototypeChanges, prototypeMemberIds, prototypeSnapshot } from './support/hostile-ids.js';
import { seedJsonCopy } from './support/seed-notifications.js';
import { post, stackCallbackUri } from './support/webhook-fixtures.js';
import type { PrototypeReport, prototypeProbe } from './support/workflows/with-prototype-probe.js';

let temporal: TestTemporal;
let bundleDir: string;
let stack: HandoffTestStack;
/** Another system of the same bot: its calls report there, not to Handoff. */
let otherSystem: BotReceiver;
/** A notification token the simulator signed (aud: the bot, tid: its tenant), as Graph would. */
let notificationToken: string;

beforeAll(async () => {
  const probePath = fileURLToPath(new URL('./support/workflows/with-prototype-probe.ts', import.meta.url));
  const [started, { code }, receiver] = await Promise.all([
    startTestTemporal(),
    bundleWorkflowCode({ workflowsPath: probePath, logger: new DefaultLogger('WARN') }),
    startBotReceiver(),
  ]);
  temporal = started;
  otherSystem = receiver;
  bundleDir = mkdtempSync(join(tmpdir(), 'handoff-hardening-bundle-'));
  writeFileSync(join(bundleDir, 'bundle.cjs'), code);
  stack = await startHandoffTestStack({ temporal, workflowBundlePath: join(bundleDir, 'bundle.cjs') });
  // The incoming-call notification the other system receives carries a token valid for this bot.
  await stack.sim.placeIncomingCall({ botUrl: otherSystem.callbackUrl('/api/calls') });
  const [incoming] = await otherSystem.waitFor(1);
  notificationToken = incoming!.token!;
});

afterAll(async () => {
  await stack?.stop();
  await otherSystem?.stop();
  await temporal?.stop();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

async function sandboxPrototype(): Promise<PrototypeReport> {
  return stack.client.workflow.execute<typeof prototypeProbe>('prototypeProbe', {
    workflowId: `prototype-probe-${randomUUID()}`,
    taskQueue: stack.taskQueue,
  });
}

function requestsFor(callId: string, method: string): RequestRecord[] {
  return stack.sim.requests.filter(
    (request) =>
      request.method === method && request.path.toLowerCase().includes(`/calls/${callId.toLowerCase()}`),
  );
}

/** The callbackUri a workflow gave Graph, as Graph recorded it for the call it answered or created. */
function callbackUriOf(callId: string): string {
  const uri = stack.sim.getCall(callId)?.callbackUri;
  if (!uri) throw new Error(`the simulator has no callbackUri for call ${callId}`);
  return uri;
}

function notificationBatch(...notifications: Array<Record<string, unknown>>): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.commsNotifications',
    value: notifications.map((notification) => ({
      '@odata.type': '#microsoft.graph.commsNotification',
      changeType: 'updated',
      ...notification,
    })),
  };
}

/** Posts notifications to a workflow's callback as Graph would: JSON, with a token Graph signed. */
async function postToCallback(callbackUri: string, body: unknown): Promise<void> {
  const answer = await post(callbackUri, body, { token: notificationToken });
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
}

/** A P2P call the other system answered: established, its notifications going there. */
async function callHeldElsewhere(): Promise<string> {
  const { callId } = await stack.sim.placeIncomingCall({ botUrl: otherSystem.callbackUrl('/api/calls') });
  await graphClientFor(stack.config, stack.sim).answerCall(callId, {
    callbackUri: otherSystem.callbackUrl(`/api/calls/${callId}`),
    acceptedModalities: ['audio'],
    mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
  });
  await waitUntil(`call ${callId} established elsewhere`, () =>
    stack.sim.getCall(callId)?.state === 'established' ? true : undefined,
  );
  return callId;
}

/** A notification the other system received about its call, token and all: as if leaked. */
async function leakedNotificationAbout(callId: string) {
  return waitUntil(`a notification about ${callId} at the other system`, () =>
    otherSystem.received.find(
      (notification) => notification.path === `/api/calls/${callId}` && notification.token,
    ),
  );
}

describe('ids that name Object.prototype members', () => {
  it('reach a running transfer, which still completes, and Object.prototype stays as it was', async () => {
    const before = await sandboxPrototype();
    const here = prototypeSnapshot();
    // Slower notifications keep the transfer running while the hostile ones arrive.
    stack.sim.configure({ notifications: { delayMs: 200 } });
    try {
      const { callId, handle } = await stack.placeCall();
      // The workflow's own callback, from its answer: before that the call reports to the bot's URL.
      const callbackUri = await waitUntil('the P2P call answered', () => {
        const answer = requestsFor(callId, 'POST').find((request) => request.path.endsWith('/answer'));
        return (answer?.body as { callbackUri?: string } | undefined)?.callbackUri;
      });
      await postToCallback(
        callbackUri,
        notificationBatch(
          // Calls nobody created, named like Object.prototype members.
          ...prototypeMemberIds.map((id) => ({
            resourceUrl: `/communications/calls/${id}`,
            resourceData: { '@odata.type': '#microsoft.graph.call', state: 'established' },
          })),
          // Participants and an operation of the real call, named the same way.
          {
            resourceUrl: `/communications/calls/${callId}/participants`,
            resourceData: prototypeMemberIds.map((id) => ({
              '@odata.type': '#microsoft.graph.participant',
              id,
              info: { identity: { user: { id, displayName: id } } },
              isInLobby: false,
            })),
          },
          ...prototypeMemberIds.map((id) => ({
            resourceUrl: `/communications/calls/${callId}/operations/${id}`,
            resourceData: {
              '@odata.type': '#microsoft.graph.inviteParticipantsOperation',
              status: 'completed',
              clientContext: id,
            },
          })),
        ),
      );
      const result: TransferResult = await handle.result();
      expect(result).toMatchObject({ outcome: 'completed', p2pCallId: callId, inviteeSeenInRoster: true });
      // None of those calls exists: the workflow read each, found it gone, and hung none up.
      for (const id of prototypeMemberIds) {
        expect(requestsFor(id, 'GET').length, `GET ${id}`).toBeGreaterThan(0);
        expect(requestsFor(id, 'DELETE'), `DELETE ${id}`).toEqual([]);
      }
      expect(result.orphanedCallsHungUp).toEqual([]);
    } finally {
      stack.sim.configure({ notifications: { delayMs: 0 } });
    }
    expect(await sandboxPrototype()).toEqual(before);
    expect((await sandboxPrototype()).inherited).toEqual(
      Object.fromEntries(Object.keys(before.inherited).map((member) => [member, 'undefined'])),
    );
    expect(prototypeChanges(here)).toEqual([]);
  });
});

describe('a call someone else holds', () => {
  it('is read and left alone when a notification about it reaches a workflow', async () => {
    const foreignCallId = await callHeldElsewhere();
    // A botCall holding a meeting call of its own: its orphan clean-up runs for as long as it holds it.
    const workflowId = botCallWorkflowId(randomUUID());
    const handle = await stack.client.workflow.start<typeof botCall>(BOT_CALL_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: stack.taskQueue,
      args: [
        {
          request: {
            kind: 'meeting',
            chatInfo: { threadId: `19:meeting_${randomUUID()}@thread.v2`, messageId: '0' },
            organizer: { user: { id: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96', displayName: 'Bob' } },
            media: { kind: 'none' },
          },
          callbackUri: stackCallbackUri(stack, workflowId),
          botAppId: stack.sim.botAppId,
          tenantId: stack.sim.tenantId,
        },
      ],
    });
    const ownCallId = await waitUntil('the botCall established', async () => {
      const snapshot = await handle.query(botCallStateQuery);
      return snapshot.phase === 'established' ? snapshot.callId : undefined;
    });

    // A real notification about the foreign call, token and all, posted to this workflow's callback.
    const leaked = await leakedNotificationAbout(foreignCallId);
    await postToCallback(callbackUriOf(ownCallId), leaked.body);

    await waitUntil('the workflow reads the foreign call', () =>
      requestsFor(foreignCallId, 'GET').length > 0 ? true : undefined,
    );
    // Time for a hang-up, had the workflow decided on one.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(requestsFor(foreignCallId, 'DELETE')).toEqual([]);
    expect(stack.sim.getCall(foreignCallId)?.state).toBe('established');

    await handle.signal(hangUpSignal);
    expect((await handle.result()).outcome).toBe('ended');
    expect(requestsFor(ownCallId, 'DELETE')).toHaveLength(1);
    expect(requestsFor(foreignCallId, 'DELETE')).toEqual([]);
    expect(stack.sim.getCall(foreignCallId)?.state).toBe('established');
  });
});

describe('a call someone else holds, while a create-call response is lost', () => {
  it('is not adopted: the workflow adopts the call its own request created', async () => {
    const foreignCallId = await callHeldElsewhere();
    const leaked = await leakedNotificationAbout(foreignCallId);
    const workflowId = botCallWorkflowId(randomUUID());
    const callbackUri = stackCallbackUri(stack, workflowId);
    // Graph creates the call but its response comes after the activity gave up (15 s), and the
    // new call's own notifications come late: the foreign call is the first unknown call here.
    stack.sim.injectFault({
      method: 'POST',
      path: /\/communications\/calls$/,
      bodyContains: workflowId,
      delayMs: 17_000,
    });
    stack.sim.configure({
      notifications: {
        profiles: [{ urlContains: workflowId, seed: 1, late: [{ call: 0, delayMs: 4_000 }] }],
      },
    });
    try {
      const handle = await stack.client.workflow.start<typeof botCall>(BOT_CALL_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: stack.taskQueue,
        args: [
          {
            request: {
              kind: 'meeting',
              chatInfo: { threadId: `19:meeting_${randomUUID()}@thread.v2`, messageId: '0' },
              organizer: { user: { id: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96', displayName: 'Bob' } },
              media: { kind: 'none' },
            },
            callbackUri,
            botAppId: stack.sim.botAppId,
            tenantId: stack.sim.tenantId,
          },
        ],
      });
      await waitUntil('the create request reached Graph', () =>
        stack.sim.requests.some((request) => JSON.stringify(request.body ?? '').includes(workflowId))
          ? true
          : undefined,
      );
      await postToCallback(callbackUri, leaked.body);
      const ownCallId = await waitUntil(
        'the call Graph created for the workflow',
        () => stack.sim.calls().find((call) => call.callbackUri === callbackUri)?.id,
      );
      const state = await waitUntil(
        'the botCall established',
        async () => {
          const snapshot = await handle.query(botCallStateQuery);
          return snapshot.phase === 'established' ? snapshot : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(state.callId).toBe(ownCallId);
      expect(requestsFor(foreignCallId, 'GET').length).toBeGreaterThan(0);
      expect(requestsFor(foreignCallId, 'DELETE')).toEqual([]);
      expect(requestsFor(ownCallId, 'DELETE')).toEqual([]);
      expect(stack.sim.getCall(foreignCallId)?.state).toBe('established');
      await handle.signal(hangUpSignal);
      expect((await handle.result()).outcome).toBe('ended');
      expect(requestsFor(foreignCallId, 'DELETE')).toEqual([]);
    } finally {
      stack.sim.configure({ notifications: { profiles: [] } });
      stack.sim.clearFaults();
    }
  }, 90_000);
});

describe('requests as the seed walkthrough writes them (seed 001, replacing a P2P call)', () => {
  it('sends the create-call body of step 2 and the invite of step 3', async () => {
    const { callId, handle } = await stack.placeCall();
    const result: TransferResult = await handle.result();
    expect(result.outcome).toBe('completed');
    const callbackUri = callbackUriOf(callId);

    const step2 = seedJsonCopy('001:621') as Record<string, unknown>;
    const { callback: _, ...page } = step2;
    const [create] = stack.sim.requests
      .filter((request) => request.method === 'POST' && /\/communications\/calls$/.test(request.path))
      .filter((request) => (request.body as { callbackUri?: string }).callbackUri === callbackUri);
    // The page's body, with this deployment's values: its callbackUri, subject, bot and tenant, and
    // what the current page (seed 004) adds: the call's @odata.type and allowConversationWithoutHost.
    expect(create?.body).toEqual({
      ...page,
      '@odata.type': '#microsoft.graph.call',
      callbackUri,
      subject: seedMeetingTarget.kind === 'meeting' ? seedMeetingTarget.subject : undefined,
      source: { ...(page.source as object), identity: { application: { id: stack.sim.botAppId } } },
      meetingInfo: { ...(page.meetingInfo as object), allowConversationWithoutHost: true },
      tenantId: stack.sim.tenantId,
    });

    const step3 = seedJsonCopy('001:766') as { participants: Array<Record<string, unknown>> };
    const [invite] = requestsFor(result.groupCallId!, 'POST').filter((request) =>
      request.path.endsWith('/invite'),
    );
    const body = invite?.body as { participants: Array<Record<string, unknown>>; clientContext: string };
    expect(body.participants).toHaveLength(1);
    const [sent] = body.participants;
    const [documented] = step3.participants;
    expect(Object.keys(sent!).sort()).toEqual(Object.keys(documented!).sort());
    expect(sent).toEqual({
      ...documented,
      identity: { user: expect.objectContaining({ id: defaultCaller.user?.id }) },
      // The page names the call by its path; Graph's notifications, and Handoff, by its bare id.
      replacesCallId: callId,
    });
    expect(body.clientContext).toBe(result.inviteClientContext);
  });

  it('takes a call id given as a path and transfers the call it names', async () => {
    const callId = await callHeldElsewhere();
    const start = await stack.api('/api/transfers', {
      callId: `/communications/calls/${callId}`,
      invitee: defaultCaller,
      target: seedMeetingTarget,
      alreadyAnswered: true,
      timeouts: { originalCallEndedMs: 20_000 },
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    expect(start.body.workflowId).toBe(`transfer-${callId}`);
    const result: TransferResult = await stack.handle(start.body.workflowId).result();
    expect(result).toMatchObject({ outcome: 'completed', p2pCallId: callId });
    const [invite] = requestsFor(result.groupCallId!, 'POST').filter((request) =>
      request.path.endsWith('/invite'),
    );
    const inviteBody = invite?.body as { participants: Array<{ replacesCallId: string }> } | undefined;
    expect(inviteBody?.participants[0]?.replacesCallId).toBe(callId);
  });
});
