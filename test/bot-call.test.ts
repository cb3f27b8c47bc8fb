// The botCall workflow creating and joining calls end to end (create call page, seed 004): the
// real workflow on a Temporal dev server, a real worker, the webhook over HTTP with JWT
// verification, and the Graph simulator. Every kind of call reaches established and is held until
// Graph ends it or the hangUp signal; a guest waits in the lobby until admitted or gives up.
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { graphClientFor } from '../src/app/graph.js';
import type { RequestRecord } from '../src/simulator/index.js';
import { HandoffCallIds, HandoffFlow, HandoffTransferState } from '../src/temporal/search-attributes.js';
import {
  BOT_CALL_FAILED,
  botCallStateQuery,
  hangUpSignal,
  INVALID_BOT_CALL_REQUEST,
  inviteParticipantsUpdate,
} from '../src/workflows/bot-call/definitions.js';
import type {
  BotCallInput,
  BotCallResult,
  BotCallSnapshot,
  CallRequest,
} from '../src/workflows/bot-call/types.js';
import { type BotCallHandle, startBotCall as startBotCallIn } from './support/bot-calls.js';
import {
  activityTypeOf,
  describeHistory,
  eventTypeName,
  sharedHandoffStack,
  waitUntil,
} from './support/handoff-stack.js';
import { stackCallbackUri } from './support/webhook-fixtures.js';

const stack = sharedHandoffStack();

/** Starts a botCall with the Temporal client, as the HTTP API and other services do. */
async function startBotCall(
  request: CallRequest,
  extra: Partial<BotCallInput> = {},
): Promise<{ workflowId: string; handle: BotCallHandle }> {
  const handle = await startBotCallIn(stack, request, extra);
  return { workflowId: handle.workflowId, handle };
}

async function untilPhase(handle: BotCallHandle, phase: BotCallSnapshot['phase']): Promise<BotCallSnapshot> {
  return waitUntil(`${handle.workflowId} in phase ${phase}`, async () => {
    const state = await handle.query(botCallStateQuery);
    return state.phase === phase ? state : undefined;
  });
}

function requestsTo(method: string, path: RegExp | string): RequestRecord[] {
  return stack.sim.requests.filter(
    (request) =>
      request.method === method &&
      (typeof path === 'string' ? request.path === path : path.test(request.path)),
  );
}

/** The POST /communications/calls whose callbackUri names this workflow. */
function createRequestOf(workflowId: string): Record<string, unknown> {
  const creates = requestsTo('POST', /^\/v1\.0\/communications\/calls$/).filter(
    (request) =>
      (request.body as { callbackUri?: string }).callbackUri === stackCallbackUri(stack, workflowId),
  );
  expect(creates.map((request) => request.status)).toEqual([201]);
  return creates[0]!.body as Record<string, unknown>;
}

async function failureOf(handle: BotCallHandle): Promise<ApplicationFailure> {
  try {
    await handle.result();
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    return cause as ApplicationFailure;
  }
  throw new Error(`${handle.workflowId} completed; a failure was expected`);
}

const john = { user: { id: '112f7296-5fa4-42ca-bae8-6a692b15d4b8', displayName: 'John' } };
const user1 = { user: { id: '98da8a1a-1b87-452c-a713-65d3f10b5555', displayName: 'user1' } };
const user2 = { user: { id: 'bf5aae9a-d11d-47a8-93b1-782504c95555', displayName: 'user2' } };
const bob = {
  user: {
    id: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96',
    tenantId: 'aa67bd4c-8475-432d-bd41-39f255720e0a',
    displayName: 'Bob',
  },
};
const prompts = [
  { uri: 'https://cdn.contoso.com/beep.wav', resourceId: 'f8971b04-b53e-418c-9222-c82ce681a582' },
  { uri: 'https://cdn.contoso.com/cool.wav', resourceId: '86dc814b-c172-4428-9112-60f8ecae1edb' },
];
/** The audio media session blob of seed 004, example 2: passed through byte for byte. */
const mediaBlob =
  '{"mpUri":"net.tcp://bot.contoso.com:18732/MediaProcessor","audioRenderContexts":["14778cc4-f54c-43c7-989f-9092e34ef784"],"videoRenderContexts":[],"audioSourceContexts":["a5dcfc9b-5a54-48ef-86f5-1fdd8508741a"],"videoSourceContexts":[],"dataRenderContexts":null,"dataSourceContexts":null,"supportedAudioFormat":"Pcm16K","videoSinkEncodingFormats":[],"mpMediaSessionId":"2379cf46-acf3-4fef-a914-be9627075320","regionAffinity":null,"skypeMediaBotsVersion":"1.11.1.0086","mediaStackVersion":"2018.53.1.1","mpVersion":"7.2.0.3881","callId":"1b69b141-7f1a-4033-9c34-202737190a20"}';
const meetingChat = {
  '@odata.type': '#microsoft.graph.chatInfo',
  threadId: '19:meeting_Win6Ydo4wsMijFjZS00ZGVjLTk5MGUtOTRjNWY2NmNkYTFm@thread.v2',
  messageId: '0',
};
const channelChat = {
  '@odata.type': '#microsoft.graph.chatInfo',
  threadId: '19:cbee7c1c860e465f8258e3cebf7bee0d@thread.skype',
  messageId: '1533758867081',
};

describe('creating and joining every kind of call', () => {
  it('reaches established for each create-call example, sends its seed shape, and ends each on hangUp with one DELETE', async () => {
    const scenarios: Record<
      string,
      { request: CallRequest; body: Record<string, unknown>; absent?: string[] }
    > = {
      'P2P, service-hosted media (example 1)': {
        request: { kind: 'p2p', target: john, media: { kind: 'serviceHosted' } },
        body: {
          targets: [{ identity: john }],
          requestedModalities: ['audio'],
          mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
        },
      },
      'P2P, app-hosted media (example 2)': {
        request: { kind: 'p2p', target: john, media: { kind: 'appHosted', blob: mediaBlob } },
        body: {
          source: { identity: { application: { id: stack.sim.botAppId } } },
          mediaConfig: { '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob: mediaBlob },
        },
      },
      'group call, service-hosted media (example 3)': {
        request: {
          kind: 'groupCall',
          targets: [user1, user2],
          media: { kind: 'serviceHosted' },
          subject: 'Create a group call with service hosted media',
        },
        body: {
          direction: 'outgoing',
          subject: 'Create a group call with service hosted media',
          targets: [{ identity: user1 }, { identity: user2 }],
          tenantId: stack.sim.tenantId,
        },
      },
      'scheduled meeting by organizer, no media (example 5, as a transfer target)': {
        request: { kind: 'meeting', chatInfo: meetingChat, organizer: bob, media: { kind: 'none' } },
        body: {
          requestedModalities: [],
          chatInfo: meetingChat,
          meetingInfo: {
            '@odata.type': '#microsoft.graph.organizerMeetingInfo',
            organizer: bob,
            allowConversationWithoutHost: true,
          },
        },
        absent: ['mediaConfig'],
      },
      'joinMeetingId with passcode (example 6)': {
        request: {
          kind: 'joinMeetingId',
          joinMeetingId: '1234567',
          passcode: 'psw123',
          media: { kind: 'serviceHosted', preFetchMedia: prompts },
        },
        body: {
          meetingInfo: {
            '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo',
            joinMeetingId: '1234567',
            passcode: 'psw123',
          },
          mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig', preFetchMedia: prompts },
        },
      },
      'joinMeetingId without passcode (example 7)': {
        request: { kind: 'joinMeetingId', joinMeetingId: '7654321', media: { kind: 'serviceHosted' } },
        body: {
          meetingInfo: {
            '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo',
            joinMeetingId: '7654321',
          },
        },
      },
      'channel meeting, service-hosted media (example 9)': {
        request: {
          kind: 'meeting',
          chatInfo: channelChat,
          organizer: bob,
          media: { kind: 'serviceHosted', preFetchMedia: prompts },
        },
        body: { chatInfo: channelChat, requestedModalities: ['audio'] },
      },
      'PSTN from an application instance (example 11)': {
        request: {
          kind: 'pstn',
          phoneNumber: '+12345678901',
          applicationInstance: { id: '3d913abb-aec0-4964-8fa6-3c6850c4f278', displayName: 'Calling Bot' },
          media: { kind: 'serviceHosted' },
        },
        body: {
          source: {
            identity: {
              applicationInstance: { id: '3d913abb-aec0-4964-8fa6-3c6850c4f278', displayName: 'Calling Bot' },
            },
          },
          targets: [{ identity: { phone: { id: '+12345678901' } } }],
          tenantId: stack.sim.tenantId,
        },
      },
    };

    const started = await Promise.all(
      Object.entries(scenarios).map(async ([name, scenario]) => ({
        name,
        scenario,
        ...(await startBotCall(scenario.request)),
      })),
    );
    const established = await Promise.all(
      started.map(async (run) => ({ ...run, state: await untilPhase(run.handle, 'established') })),
    );

    for (const { name, scenario, workflowId, handle, state } of established) {
      const body = createRequestOf(workflowId);
      expect({ name, body }).toMatchObject({
        name,
        body: { callbackUri: stackCallbackUri(stack, workflowId), ...scenario.body },
      });
      for (const field of scenario.absent ?? []) expect(body, name).not.toHaveProperty(field);
      expect(state.callId, name).toEqual(expect.any(String));
      expect(state.requestKind).toBe(scenario.request.kind);
      expect(stack.sim.getCall(state.callId!)?.state, name).toBe('established');

      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(HandoffFlow), name).toBe('bot-call');
      expect(description.typedSearchAttributes.get(HandoffTransferState), name).toBe('established');
      expect(description.typedSearchAttributes.get(HandoffCallIds), name).toEqual([state.callId]);
    }

    // The app-hosted media blob reaches Graph untouched and reads back the same.
    const appHosted = established.find((run) => run.name.startsWith('P2P, app-hosted'))!;
    const graph = graphClientFor(stack.config, stack.sim);
    expect((await graph.getCall(appHosted.state.callId!)).mediaConfig).toEqual({
      '@odata.type': '#microsoft.graph.appHostedMediaConfig',
      blob: mediaBlob,
    });
    // Meetings and group calls get a roster with the bot in it; P2P calls get none (example 2's note).
    const group = established.find((run) => run.name.startsWith('group call'))!;
    const groupState = await waitUntil('the group call roster', async () => {
      const state = await group.handle.query(botCallStateQuery);
      return state.roster.length >= 3 ? state : undefined;
    });
    expect(groupState.roster.every((participant) => participant.joined && !participant.inLobby)).toBe(true);
    expect(groupState.roster.map((participant) => participant.identity.user?.id ?? null)).toEqual(
      expect.arrayContaining([user1.user.id, user2.user.id]),
    );
    const p2p = established.find((run) => run.name.startsWith('P2P, service'))!;
    expect((await p2p.handle.query(botCallStateQuery)).roster).toEqual([]);

    // Hang up every one of them: a DELETE each, and the workflow ends with outcome ended.
    await Promise.all(established.map((run) => run.handle.signal(hangUpSignal)));
    const results = await Promise.all(
      established.map(async (run) => ({ run, result: await run.handle.result() })),
    );
    for (const { run, result } of results) {
      expect({ name: run.name, result }).toMatchObject({
        name: run.name,
        result: {
          outcome: 'ended',
          callId: run.state.callId,
          reason: 'hung up on request',
          terminationReason: 'AppInitiated',
          operations: [],
        },
      });
      const { startedAt, establishedAt, endedAt } = result.timings;
      expect(startedAt <= establishedAt! && establishedAt! <= endedAt!).toBe(true);
      expect(
        requestsTo('DELETE', `/v1.0/communications/calls/${run.state.callId}`).map((r) => r.status),
      ).toEqual([204]);
      expect(stack.sim.getCall(run.state.callId!)?.deleted).toBe(true);
      const description = await run.handle.describe();
      expect(description.status.name).toBe('COMPLETED');
      expect(description.typedSearchAttributes.get(HandoffTransferState)).toBe('ended');
    }
  });

  it('ends with outcome ended when the other party hangs up, without a DELETE of its own', async () => {
    const { handle } = await startBotCall({ kind: 'p2p', target: john, media: { kind: 'serviceHosted' } });
    const { callId } = await untilPhase(handle, 'established');
    stack.sim.endByRemoteParty(callId!, 'RemoteHangUp');
    const result: BotCallResult = await handle.result();
    expect(result).toMatchObject({
      outcome: 'ended',
      callId,
      reason: 'the call ended',
      terminationReason: 'RemoteHangUp',
    });
    expect(requestsTo('DELETE', `/v1.0/communications/calls/${callId}`)).toEqual([]);
  });
});

describe('a create-call response that never arrives', () => {
  it('adopts the call its notifications announce instead of creating a second one', async () => {
    // Graph creates the call, but its answer comes after the Graph client gave up (10 s).
    stack.sim.injectFault({ method: 'POST', path: /\/communications\/calls$/, delayMs: 10_500 });
    const { workflowId, handle } = await startBotCall({
      kind: 'meeting',
      chatInfo: meetingChat,
      organizer: bob,
      media: { kind: 'none' },
    });
    const { callId } = await untilPhase(handle, 'established');
    createRequestOf(workflowId); // exactly one, answered 201 (late)
    expect(stack.sim.getCall(callId!)?.callbackUri).toBe(stackCallbackUri(stack, workflowId));
    const events = (await handle.fetchHistory()).events ?? [];
    const createEvents = events.filter((event) => activityTypeOf(events, event) === 'createCall');
    expect(createEvents.map(eventTypeName), describeHistory(events).join('\n')).toEqual([
      'ActivityTaskScheduled',
      'ActivityTaskStarted',
      'ActivityTaskFailed',
    ]);
    await handle.signal(hangUpSignal);
    expect(await handle.result()).toMatchObject({ outcome: 'ended', callId });
    expect(
      requestsTo('DELETE', /./)
        .filter((request) => request.path.endsWith(callId!))
        .map((r) => r.status),
    ).toEqual([204]);
  });
});

describe('a guest join (example 10)', () => {
  const guestJoin = (id: string): CallRequest => ({
    kind: 'meeting',
    chatInfo: channelChat,
    organizer: bob,
    media: { kind: 'serviceHosted' },
    guest: { id, displayName: 'Guest User' },
  });

  it('waits in the lobby, refuses updates meanwhile, and holds the call once admitted', async () => {
    const guestId = randomUUID();
    const { workflowId, handle } = await startBotCall(guestJoin(guestId));
    const inLobby = await untilPhase(handle, 'inLobby');
    expect(createRequestOf(workflowId)).toMatchObject({
      source: { identity: { guest: { id: guestId, displayName: 'Guest User' } } },
    });
    expect(inLobby.roster).toEqual([
      expect.objectContaining({
        identity: expect.objectContaining({ guest: expect.objectContaining({ id: guestId }) }),
        inLobby: true,
        joined: false,
      }),
    ]);
    expect((await handle.describe()).typedSearchAttributes.get(HandoffTransferState)).toBe('inLobby');

    // Not established yet: the validator refuses, and nothing reaches Graph.
    const invitesBefore = requestsTo('POST', /\/participants\/invite$/).length;
    const refused = await handle
      .executeUpdate(inviteParticipantsUpdate, { args: [{ participants: [{ identity: user1 }] }] })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toMatch(
      /not established yet \(phase inLobby\)/,
    );
    expect(requestsTo('POST', /\/participants\/invite$/)).toHaveLength(invitesBefore);

    stack.sim.admitFromLobby(inLobby.callId!);
    const established = await untilPhase(handle, 'established');
    expect(
      established.roster.find(
        (participant) => participant.id === stack.sim.getCall(inLobby.callId!)?.myParticipantId,
      ),
    ).toMatchObject({
      joined: true,
      inLobby: false,
    });

    await handle.signal(hangUpSignal);
    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'ended', callId: inLobby.callId, admittedFromLobby: true });
  });

  it('fails after lobbyMs when nobody admits it, and hangs up the call it was waiting in', async () => {
    const { workflowId, handle } = await startBotCall(guestJoin(randomUUID()), {
      timeouts: { lobbyMs: 1_500 },
    });
    const { callId } = await untilPhase(handle, 'inLobby');
    const failure = await failureOf(handle);
    expect(failure.type).toBe(BOT_CALL_FAILED);
    expect(failure.message).toBe(`call ${callId}: not admitted from the lobby within 1500 ms`);
    const result = failure.details?.[0] as BotCallResult;
    expect(result).toMatchObject({ outcome: 'failed', callId, reason: failure.message });
    expect(requestsTo('DELETE', `/v1.0/communications/calls/${callId}`).map((r) => r.status)).toEqual([204]);
    expect(stack.sim.getCall(callId!)?.deleted).toBe(true);
    const description = await handle.describe();
    expect(
      description.status.name,
      describeHistory((await handle.fetchHistory()).events ?? []).join('\n'),
    ).toBe('FAILED');
    expect(description.typedSearchAttributes.get(HandoffTransferState)).toBe('failed');
    expect(workflowId).toBe(handle.workflowId);
  });

  it('a hangUp while in the lobby hangs up and ends without waiting for lobbyMs', async () => {
    const { handle } = await startBotCall(guestJoin(randomUUID()));
    const { callId } = await untilPhase(handle, 'inLobby');
    await handle.signal(hangUpSignal);
    const result = await handle.result();
    expect(result).toMatchObject({
      outcome: 'ended',
      callId,
      reason: 'hung up on request before the call was established',
    });
    expect(requestsTo('DELETE', `/v1.0/communications/calls/${callId}`).map((r) => r.status)).toEqual([204]);
  });
});

describe('requests that cannot succeed', () => {
  it('refuses an invalid request before any Graph request, naming every problem', async () => {
    const createsBefore = requestsTo('POST', /^\/v1\.0\/communications\/calls$/).length;
    const { handle } = await startBotCall({
      kind: 'groupCall',
      targets: [user1, user2, john, bob, { user: { id: 'a' } }, { user: { id: 'b' } }],
      media: { kind: 'serviceHosted' },
    });
    const failure = await failureOf(handle);
    expect(failure.type).toBe(INVALID_BOT_CALL_REQUEST);
    expect(failure.message).toMatch(/request\.targets must list 2 to 5 parties .* got 6/);
    expect(await handle.query(botCallStateQuery)).toMatchObject({
      phase: 'failed',
      requestKind: 'groupCall',
      reason: failure.message,
    });

    const pstn = await startBotCall({
      kind: 'pstn',
      phoneNumber: '12345',
      applicationInstance: { id: '' },
      media: { kind: 'appHosted', blob: '' },
    });
    const pstnFailure = await failureOf(pstn.handle);
    expect(pstnFailure.type).toBe(INVALID_BOT_CALL_REQUEST);
    expect(pstnFailure.message).toContain(
      'request.phoneNumber must be an E.164 number such as +12345678901, got "12345"',
    );
    expect(pstnFailure.message).toContain('request.applicationInstance.id');
    expect(pstnFailure.message).toContain('request.media.blob');
    expect(requestsTo('POST', /^\/v1\.0\/communications\/calls$/)).toHaveLength(createsBefore);
  });

  it('fails when the P2P target never answers: Graph ends the call before it is established', async () => {
    const nobody = { user: { id: randomUUID(), displayName: 'Nobody home' } };
    stack.sim.declineInvitees([nobody.user.id]);
    try {
      const { handle } = await startBotCall({
        kind: 'p2p',
        target: nobody,
        media: { kind: 'serviceHosted' },
      });
      const failure = await failureOf(handle);
      expect(failure.type).toBe(BOT_CALL_FAILED);
      const result = failure.details?.[0] as BotCallResult;
      expect(failure.message).toBe(`call ${result.callId} ended before it was established (gone)`);
      expect(result).toMatchObject({ outcome: 'failed', callId: expect.any(String) });
      expect(stack.sim.getCall(result.callId!)).toMatchObject({ deleted: true, resultInfo: { code: 408 } });
    } finally {
      stack.sim.configure({ flows: { decliningIdentityIds: [] } });
    }
  });

  it('hangs up the call it holds when the workflow is cancelled', async () => {
    const { handle } = await startBotCall({ kind: 'p2p', target: john, media: { kind: 'serviceHosted' } });
    const { callId } = await untilPhase(handle, 'established');
    await handle.cancel();
    const error = await handle.result().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(requestsTo('DELETE', `/v1.0/communications/calls/${callId}`).map((r) => r.status)).toEqual([204]);
    const description = await handle.describe();
    expect(description.status.name).toBe('CANCELLED');
    expect(description.typedSearchAttributes.get(HandoffTransferState)).toBe('cancelled');
  });

  it('fails with what Graph said when it refuses the join (wrong passcode), leaving no call behind', async () => {
    const { workflowId, handle } = await startBotCall({
      kind: 'joinMeetingId',
      joinMeetingId: '1234567',
      passcode: 'not-the-passcode',
      media: { kind: 'none' },
    });
    const failure = await failureOf(handle);
    expect(failure.type).toBe(BOT_CALL_FAILED);
    expect(failure.message).toMatch(/createCall failed: .*403.*passcode/is);
    const creates = requestsTo('POST', /^\/v1\.0\/communications\/calls$/).filter(
      (request) =>
        (request.body as { callbackUri?: string }).callbackUri === stackCallbackUri(stack, workflowId),
    );
    // A refusal is final: sent once, not retried.
    expect(creates.map((request) => request.status)).toEqual([403]);
    expect(failure.details?.[0]).toMatchObject({ outcome: 'failed' });
    expect((failure.details?.[0] as BotCallResult | undefined)?.callId).toBeUndefined();
  });
});
