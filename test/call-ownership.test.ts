// Every call the bot is in has an owner until it ends (issue 10, docs/call-ownership.md), end to
// end against the Graph simulator: keep-alive survives failed rounds; a transfer's result says
// what happened (`running`, `completed`, `completedUnverified`); a failed transfer tries the
// fallback target, else hangs up the P2P call the bot answered; a caller who hangs up while the
// group call is being created is invited nowhere; after success the bot leaves its leg (`leave`)
// or a `groupCallOwner` keeps it (`stay`, continued as new under the same workflow id).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphClientFor } from '../src/app/graph.js';
import { ConfigError, loadConfig, seedMeetingTarget } from '../src/config/env.js';
import type { RequestRecord } from '../src/simulator/index.js';
import { HandoffCallOwner } from '../src/temporal/search-attributes.js';
import { parseTransferRequest } from '../src/webhook/transfer-request.js';
import { transferInputFor } from '../src/webhook/transfer-start.js';
import type { botCall } from '../src/workflows/bot-call/bot-call.js';
import {
  BOT_CALL_WORKFLOW_TYPE,
  botCallStateQuery,
  botCallWorkflowId,
  hangUpSignal,
} from '../src/workflows/bot-call/definitions.js';
import { normaliseCallbackUri } from '../src/workflows/callback-uri.js';
import { transferStateQuery } from '../src/workflows/definitions.js';
import type { GroupCallOwnerResult } from '../src/workflows/group-call-owner/group-call-owner.js';
import { type StrayCallResult, strayCallWorkflowId } from '../src/workflows/stray-call/definitions.js';
import {
  TRANSFER_FAILED,
  type TransferInput,
  type TransferTarget,
  type TransferTimeouts,
} from '../src/workflows/transfer/types.js';
import { sharedBotReceiver } from './support/bot-receiver.js';
import {
  deliveryProfiles,
  outcomeOf,
  placeUnhandledCall,
  startTransferWithClient,
  transferResultOf,
} from './support/flow-properties.js';
import { eventTypeName, sharedHandoffStack, summaryOf, waitUntil } from './support/handoff-stack.js';
import { stackCallbackUri, TEST_CALLBACK_SECRET } from './support/webhook-fixtures.js';

const stack = sharedHandoffStack();
const receiver = sharedBotReceiver();

const shortTimeouts: Partial<TransferTimeouts> = {
  callEstablishedMs: 5_000,
  inviteCompletedMs: 3_000,
  originalCallEndedMs: 5_000,
  endDetailsMs: 1_000,
};

/** A meeting of its own (a fresh chat thread): the seed's organizer, another thread. */
function anotherMeeting(): TransferTarget {
  if (seedMeetingTarget.kind !== 'meeting') throw new Error('the seed target is a meeting');
  return {
    ...seedMeetingTarget,
    chatInfo: { threadId: `19:meeting_${randomUUID()}@thread.v2`, messageId: '0' },
  };
}

async function transfer(amend: Partial<TransferInput>, beforeStart?: (callId: string) => void) {
  const callId = await placeUnhandledCall(stack, receiver.callbackUrl());
  beforeStart?.(callId);
  const workflowId = await startTransferWithClient(stack, callId, { timeouts: shortTimeouts, ...amend });
  return { callId, workflowId };
}

const requestsFor = (callId: string): RequestRecord[] =>
  stack.sim.requests.filter((request) => request.path.includes(`/calls/${callId}`));
const hangUpsOf = (callId: string) =>
  requestsFor(callId).filter(
    (request) => request.method === 'DELETE' && request.path.endsWith(`/calls/${callId}`),
  );
const keepAlivesOf = (callId: string) =>
  requestsFor(callId).filter((request) => request.method === 'POST' && request.path.endsWith('/keepAlive'));
const invitesFor = (p2pCallId: string) =>
  stack.sim.requests.filter(
    (request) =>
      request.method === 'POST' &&
      request.path.endsWith('/participants/invite') &&
      JSON.stringify(request.body).includes(p2pCallId),
  );

describe('keep-alive never gives up on its own (10.1)', () => {
  it('logs failed rounds (403s, then 503s past the activity retries) and keeps sending at the next interval', async () => {
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
          keepAliveIntervalMs: 1_000,
        },
      ],
    });
    const { callId } = await waitUntil('the bot call established', async () => {
      const snapshot = await handle.query(botCallStateQuery);
      return snapshot.phase === 'established' ? { callId: snapshot.callId! } : undefined;
    });
    const path = new RegExp(`/calls/${callId}/keepAlive$`);
    // Two rounds refused outright (403 is not retried), then a round whose every attempt (the
    // activity's 10) gets a 503: three rounds fail, more than one round's retry budget.
    stack.sim.injectFault({ method: 'POST', path, status: 403, times: 2 });
    stack.sim.injectFault({ method: 'POST', path, status: 503, retryAfterSeconds: 1, times: 10 });
    const resumed = await waitUntil(
      'keep-alive answered 200 after the failures',
      async () => {
        const sent = keepAlivesOf(callId);
        const failures = sent.filter((request) => request.status >= 400);
        const lastFailure = failures[failures.length - 1];
        return failures.length >= 12 &&
          sent.some((request) => request.status === 200 && request.at > lastFailure!.at)
          ? sent
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(resumed.filter((request) => request.status === 403)).toHaveLength(2);
    expect(resumed.filter((request) => request.status === 503)).toHaveLength(10);
    expect(await handle.query(botCallStateQuery)).toMatchObject({ phase: 'established' });
    await handle.signal(hangUpSignal);
    expect((await handle.result()).outcome).toBe('ended');
    const history = await stack.history(workflowId);
    const failedKeepAlives = history.filter((event) => eventTypeName(event) === 'ActivityTaskFailed');
    expect(failedKeepAlives.length).toBeGreaterThanOrEqual(3);
  }, 120_000);
});

describe('after a successful transfer (10.2, 10.5)', () => {
  it.concurrent('leave (default): no outcome while running; completed, then the bot hangs up its own leg', async ({
    expect,
  }) => {
    const profiles = deliveryProfiles(stack.sim);
    const { callId, workflowId } = await transfer({}, (id) =>
      profiles.add({ urlContains: id, seed: 1, late: [{ kind: 'established', call: 1, delayMs: 2_000 }] }),
    );
    try {
      const running = await waitUntil('the transfer creating its group call', async () => {
        const snapshot = await stack.handle(workflowId).query(transferStateQuery);
        return snapshot.phase === 'creatingGroupCall' ? snapshot : undefined;
      });
      expect(running.result.outcome).toBe('running');
      const outcome = await outcomeOf(stack, workflowId);
      const result = transferResultOf(outcome)!;
      expect(result).toMatchObject({ outcome: 'completed', inviteeSeenInRoster: true, botLeg: 'left' });
      expect(hangUpsOf(result.groupCallId!)).toHaveLength(1);
      // After the caller was seen in the group call.
      const invite = invitesFor(callId)[0]!;
      expect(hangUpsOf(result.groupCallId!)[0]!.at.getTime()).toBeGreaterThan(invite.at.getTime());
      expect(hangUpsOf(callId)).toHaveLength(0);
      await stack.sim.whenIdle();
      expect(stack.sim.getCall(result.groupCallId!)?.deleted).toBe(true);
    } finally {
      profiles.remove(callId);
    }
  });

  it.concurrent('completedUnverified: the P2P call ended, but neither the invite completion nor the invitee was seen', async ({
    expect,
  }) => {
    const profiles = deliveryProfiles(stack.sim);
    const { callId, workflowId } = await transfer({}, (id) => {
      profiles.add({ urlContains: id, seed: 1, drop: [{ kind: 'operation' }, { kind: 'roster' }] });
    });
    try {
      const groupCallId = await waitUntil('the group call', async () => {
        const snapshot = await stack.handle(workflowId).query(transferStateQuery);
        return snapshot.result.groupCallId;
      });
      // The read after the lost operation notification finds the operation gone.
      stack.sim.injectFault({
        method: 'GET',
        path: new RegExp(`/calls/${groupCallId}/operations/`),
        status: 404,
        times: 5,
      });
      const result = transferResultOf(await outcomeOf(stack, workflowId))!;
      expect(result.outcome).toBe('completedUnverified');
      expect(result.reason).toMatch(/never reported.*never seen in the roster/);
      expect(result.inviteeSeenInRoster).toBe(false);
      const described = await stack.handle(workflowId).describe();
      expect(
        described.typedSearchAttributes.getAll().find((pair) => pair.key.name === 'HandoffTransferState')
          ?.value,
      ).toBe('completedUnverified');
    } finally {
      profiles.remove(callId);
    }
  });

  it.concurrent('stay: the transfer continues as the group call owner, which keeps it alive and hangs up after the maximum duration', async ({
    expect,
  }) => {
    const { workflowId } = await transfer({
      botLegAfterTransfer: 'stay',
      stayMaxDurationMs: 5_000,
      keepAliveIntervalMs: 1_000,
    });
    const handle = stack.handle(workflowId);
    // The transfer enters the phase just before it continues as new: wait for the owner's run.
    const holding = await waitUntil('the owner holding the group call', async () => {
      if ((await handle.describe()).type !== 'groupCallOwner') return undefined;
      const snapshot = await handle.query(transferStateQuery).catch(() => undefined);
      return snapshot?.phase === 'holdingGroupCall' ? snapshot : undefined;
    });
    expect(holding.result).toMatchObject({ outcome: 'completed', botLeg: 'stayed' });
    const groupCallId = holding.result.groupCallId!;
    const described = await handle.describe();
    expect(described.type).toBe('groupCallOwner');
    expect(described.typedSearchAttributes.get(HandoffCallOwner)).toBe('groupCallOwner');
    const owned = (await handle.result()) as unknown as GroupCallOwnerResult;
    expect(owned).toMatchObject({
      groupCallId,
      endedBy: 'maxDuration',
      transfer: { outcome: 'completed', botLeg: 'stayed' },
    });
    const keepAlives = keepAlivesOf(groupCallId).filter((request) => request.status === 200);
    expect(keepAlives.length).toBeGreaterThanOrEqual(3);
    expect(hangUpsOf(groupCallId)).toHaveLength(1);
    expect((await handle.describe()).typedSearchAttributes.get(HandoffCallOwner)).toBe('none');
    // The owner's history: the hang-up is its own, after its keep-alives.
    const history = await stack.history(workflowId);
    expect(history.some((event) => summaryOf(event)?.includes('(maxDuration)'))).toBe(true);
  });
});

describe('after a failed transfer, the caller is never left in a silent call (10.3)', () => {
  it.concurrent('no fallback: hangs up the group call it created and the P2P call it answered', async ({
    expect,
  }) => {
    const { callId, workflowId } = await transfer({}, (id) => {
      stack.sim.injectFault({
        method: 'POST',
        path: /\/participants\/invite$/,
        bodyContains: id,
        status: 403,
      });
    });
    const outcome = await outcomeOf(stack, workflowId);
    expect(outcome.failure?.type).toBe(TRANSFER_FAILED);
    const result = transferResultOf(outcome)!;
    expect(result).toMatchObject({ outcome: 'failed', p2pCallHungUp: true });
    expect(hangUpsOf(callId)).toHaveLength(1);
    expect(hangUpsOf(result.groupCallId!)).toHaveLength(1);
    await stack.sim.whenIdle();
    expect(stack.sim.getCall(callId)?.deleted).toBe(true);
  });

  it.concurrent('fallback target: the first target fails, the caller is moved to the fallback', async ({
    expect,
  }) => {
    const fallbackTarget = anotherMeeting();
    const { callId, workflowId } = await transfer({ fallbackTarget }, (id) => {
      stack.sim.injectFault({
        method: 'POST',
        path: /\/participants\/invite$/,
        bodyContains: id,
        status: 403,
      });
    });
    const result = transferResultOf(await outcomeOf(stack, workflowId))!;
    expect(result).toMatchObject({ outcome: 'completed', fallbackUsed: true, inviteeSeenInRoster: true });
    expect(result.failedAttempts).toHaveLength(1);
    const firstGroupCallId = result.failedAttempts![0]!.groupCallId!;
    expect(result.failedAttempts![0]!.reason).toMatch(/403|Forbidden|inviteParticipants/);
    expect(firstGroupCallId).not.toBe(result.groupCallId);
    expect(hangUpsOf(firstGroupCallId)).toHaveLength(1);
    expect(invitesFor(callId)).toHaveLength(2);
    expect(hangUpsOf(callId)).toHaveLength(0);
    expect(result.p2pCallHungUp).toBeUndefined();
    // The caller is in the fallback meeting.
    expect(stack.sim.getCall(callId)?.replacedBy?.callId).toBe(result.groupCallId);
    const fallbackCall = stack.sim.getCall(result.groupCallId!);
    expect(fallbackCall?.chatInfo?.threadId).toBe(
      fallbackTarget.kind === 'meeting' ? fallbackTarget.chatInfo.threadId : undefined,
    );
  });

  it.concurrent('the caller hangs up while the group call is being created: nobody is invited, the group call is hung up', async ({
    expect,
  }) => {
    const profiles = deliveryProfiles(stack.sim);
    const { callId, workflowId } = await transfer({}, (id) =>
      profiles.add({ urlContains: id, seed: 1, late: [{ kind: 'established', call: 1, delayMs: 3_000 }] }),
    );
    try {
      const groupCallId = await waitUntil('the group call created', async () => {
        const snapshot = await stack.handle(workflowId).query(transferStateQuery);
        return snapshot.phase === 'creatingGroupCall' ? snapshot.result.groupCallId : undefined;
      });
      stack.sim.endByRemoteParty(callId);
      const outcome = await outcomeOf(stack, workflowId);
      const result = transferResultOf(outcome)!;
      expect(result).toMatchObject({ outcome: 'failed', callerHungUp: true });
      expect(result.reason).toMatch(/caller hung up while the group call was being created/);
      expect(invitesFor(callId)).toHaveLength(0);
      expect(hangUpsOf(groupCallId)).toHaveLength(1);
      // The caller's call had already ended: the bot does not hang it up again.
      expect(hangUpsOf(callId)).toHaveLength(0);
    } finally {
      profiles.remove(callId);
    }
  });
});

describe('stray calls are hung up, durably (10.4)', () => {
  it.concurrent('a live call reporting to a finished transfer gets a strayCall owner that hangs it up, once', async ({
    expect,
  }) => {
    const { workflowId } = await transfer({});
    const done = transferResultOf(await outcomeOf(stack, workflowId))!;
    expect(done.outcome).toBe('completed');
    // A call created with the finished transfer's callback, as a lost create-call response's twin is.
    const callbackUri = stackCallbackUri(stack, workflowId);
    const target = anotherMeeting();
    const graph = graphClientFor(stack.config, stack.sim);
    const stray = await graph.createCall({
      '@odata.type': '#microsoft.graph.call',
      callbackUri,
      requestedModalities: [],
      chatInfo: target.kind === 'meeting' ? target.chatInfo : undefined,
      meetingInfo: {
        '@odata.type': '#microsoft.graph.organizerMeetingInfo',
        organizer: target.kind === 'meeting' ? target.organizer : {},
      },
    });
    const owner = stack.client.workflow.getHandle(strayCallWorkflowId(stray.id!));
    const result = await waitUntil('the stray call owner', async () => {
      try {
        return (await owner.result()) as unknown as StrayCallResult;
      } catch {
        return undefined;
      }
    });
    expect(result).toMatchObject({ callId: stray.id, outcome: 'hungUp' });
    expect(hangUpsOf(stray.id!)).toHaveLength(1);
    await stack.sim.whenIdle();
    expect(stack.sim.getCall(stray.id!)).toMatchObject({ deleted: true, terminationReason: 'AppInitiated' });
    // Establishing and established both reported it: one owner, one hang-up.
    const described = await owner.describe();
    expect(described.typedSearchAttributes.get(HandoffCallOwner)).toBe('none');
  });

  it('compares callback URLs after normalisation (scheme and host case, trailing slash)', () => {
    expect(normaliseCallbackUri('HTTPS://Bot.Contoso.com/api/calls/transfer-1/')).toBe(
      'https://bot.contoso.com/api/calls/transfer-1',
    );
    expect(normaliseCallbackUri('https://bot.contoso.com/api/calls/Transfer-1')).not.toBe(
      normaliseCallbackUri('https://bot.contoso.com/api/calls/transfer-1'),
    );
  });
});

describe('policy settings and request fields', () => {
  it('reads HANDOFF_BOT_LEG_AFTER_TRANSFER, HANDOFF_STAY_MAX_DURATION_MS, HANDOFF_FALLBACK_TARGET', () => {
    expect(loadConfig({}).transferPolicy).toEqual({});
    const target = anotherMeeting();
    expect(
      loadConfig({
        HANDOFF_BOT_LEG_AFTER_TRANSFER: 'stay',
        HANDOFF_STAY_MAX_DURATION_MS: '60000',
        HANDOFF_FALLBACK_TARGET: JSON.stringify(target),
      }).transferPolicy,
    ).toEqual({ botLegAfterTransfer: 'stay', stayMaxDurationMs: 60_000, fallbackTarget: target });
    const bad = () =>
      loadConfig({
        HANDOFF_BOT_LEG_AFTER_TRANSFER: 'linger',
        HANDOFF_STAY_MAX_DURATION_MS: '5m',
        HANDOFF_FALLBACK_TARGET: '{"kind":"meeting"}',
      });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/HANDOFF_BOT_LEG_AFTER_TRANSFER must be 'leave' or 'stay', got "linger"/);
    expect(bad).toThrow(/HANDOFF_STAY_MAX_DURATION_MS must be whole milliseconds/);
    expect(bad).toThrow(/HANDOFF_FALLBACK_TARGET is invalid/);
    expect(loadConfig({ HANDOFF_KEEP_ALIVE_INTERVAL_MS: '2000' }).transferPolicy).toEqual({
      keepAliveIntervalMs: 2_000,
    });
    expect(() => loadConfig({ HANDOFF_KEEP_ALIVE_INTERVAL_MS: '3600000' })).toThrow(
      /HANDOFF_KEEP_ALIVE_INTERVAL_MS must be whole milliseconds from 1000 to 1800000/,
    );
  });

  it('gives the workflow the configured policy, a request field winning over its setting', () => {
    const configured = {
      botLegAfterTransfer: 'stay' as const,
      stayMaxDurationMs: 60_000,
      fallbackTarget: anotherMeeting(),
    };
    const context = {
      publicBaseUrl: 'https://bot.contoso.com',
      callbackSecrets: [TEST_CALLBACK_SECRET],
      botAppId: 'bot',
      taskQueue: 'handoff',
      transferPolicy: configured,
    };
    const request = { callId: 'call-1', target: seedMeetingTarget, invitee: { user: { id: 'caller' } } };
    expect(transferInputFor(context, request)).toMatchObject(configured);
    expect(transferInputFor(context, { ...request, botLegAfterTransfer: 'leave' })).toMatchObject({
      botLegAfterTransfer: 'leave',
      stayMaxDurationMs: 60_000,
    });
    const { transferPolicy: _none, ...unconfigured } = context;
    const input = transferInputFor(unconfigured, request);
    expect(input.botLegAfterTransfer).toBeUndefined();
    expect(input.fallbackTarget).toBeUndefined();
  });

  it('takes fallbackTarget, botLegAfterTransfer and stayMaxDurationMs per transfer, and names a bad one', () => {
    const base = { callId: randomUUID(), target: seedMeetingTarget, invitee: { user: { id: 'caller' } } };
    const fallbackTarget = anotherMeeting();
    expect(
      parseTransferRequest({
        ...base,
        fallbackTarget,
        botLegAfterTransfer: 'stay',
        stayMaxDurationMs: 60_000,
      }),
    ).toMatchObject({ fallbackTarget, botLegAfterTransfer: 'stay', stayMaxDurationMs: 60_000 });
    expect(() => parseTransferRequest({ ...base, botLegAfterTransfer: 'linger' })).toThrow(
      /botLegAfterTransfer: botLegAfterTransfer must be 'leave'/,
    );
    expect(() => parseTransferRequest({ ...base, stayMaxDurationMs: 10 })).toThrow(/stayMaxDurationMs/);
    expect(() => parseTransferRequest({ ...base, fallbackTarget: { kind: 'phone' } })).toThrow(
      /fallbackTarget/,
    );
  });
});
