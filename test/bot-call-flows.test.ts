// The operations a botCall serves as Temporal updates, end to end against the Graph simulator
// (participant-invite page, seed 003): invite users and a PSTN number (example 2, 4), with plain
// and delta rosters; refusals by the update validator before anything reaches Graph; transfer of
// a P2P call answered by another system into the call (example 3); moving a participant between
// two meetings held by two botCall workflows (example 5); a hang-up while an invite still waits.
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { IdentitySet } from '../src/graph/index.js';
import { defaultCaller, type RequestRecord } from '../src/simulator/index.js';
import {
  botCallStateQuery,
  hangUpSignal,
  inviteParticipantsUpdate,
  moveParticipantUpdate,
  transferIntoCallUpdate,
} from '../src/workflows/bot-call/definitions.js';
import type {
  BotCallInput,
  BotCallSnapshot,
  CallRequest,
  OperationOutcome,
} from '../src/workflows/bot-call/types.js';
import { type BotCallHandle, heldBotCall, startBotCall as startBotCallIn } from './support/bot-calls.js';
import { type BotReceiver, startBotReceiver } from './support/bot-receiver.js';
import { sharedHandoffStack, summaryOf, waitUntil } from './support/handoff-stack.js';
import { stackCallbackUri } from './support/webhook-fixtures.js';

const stack = sharedHandoffStack();

afterEach(() => {
  stack.sim.configure({ flows: { rosterMode: 'full', decliningIdentityIds: [] } });
});

const _startBotCall = (request: CallRequest, extra: Partial<BotCallInput> = {}) =>
  startBotCallIn(stack, request, extra);
const heldCall = (request: CallRequest, extra: Partial<BotCallInput> = {}) =>
  heldBotCall(stack, request, extra);

async function hangUp(handle: BotCallHandle): Promise<void> {
  await handle.signal(hangUpSignal);
  expect((await handle.result()).outcome).toBe('ended');
}

function invitesTo(callId: string): RequestRecord[] {
  return stack.sim.requests.filter(
    (request) =>
      request.method === 'POST' &&
      request.path === `/v1.0/communications/calls/${callId}/participants/invite`,
  );
}

const user = (id: string, displayName: string): IdentitySet => ({ user: { id, displayName } });
const alice = user('7e1b4346-85a6-4bdd-abe3-d11c5d420efe', 'Alice');
const carol = user('1e126418-44a0-4a94-a6f8-0efe1ad71acb', 'Carol');
const dave = user('682b6c37-0729-4fab-ace6-d730d5d9137e', 'Dave');
const phone: IdentitySet = { phone: { id: '+12345678901' } };
const bob = { user: { id: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96', displayName: 'Bob' } };

/** A meeting of its own (a fresh chat thread), joined by organizer + chatInfo without media. */
function meeting(): CallRequest {
  return {
    kind: 'meeting',
    chatInfo: { threadId: `19:meeting_${randomUUID()}@thread.v2`, messageId: '0' },
    organizer: bob,
    media: { kind: 'none' },
  };
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('inviteParticipants', () => {
  it('invites two users and a PSTN number into a group call: completed, each seen joined (plain roster)', async () => {
    const { handle, callId } = await heldCall({
      kind: 'groupCall',
      targets: [
        user('98da8a1a-1b87-452c-a713-65d3f10b5555', 'user1'),
        user('bf5aae9a-d11d-47a8-93b1-782504c95555', 'user2'),
      ],
      media: { kind: 'serviceHosted' },
    });
    const outcome: OperationOutcome = await handle.executeUpdate(inviteParticipantsUpdate, {
      args: [{ participants: [{ identity: alice }, { identity: carol }, { identity: phone }] }],
    });

    const invites = invitesTo(callId);
    expect(invites.map((request) => request.status)).toEqual([200]);
    const body = invites[0]!.body as { participants: unknown[]; clientContext: string };
    // Typed as in the invite examples (seed 003).
    const invitee = '#microsoft.graph.invitationParticipantInfo';
    expect(body.participants).toEqual([
      { '@odata.type': invitee, identity: alice },
      { '@odata.type': invitee, identity: carol },
      { '@odata.type': invitee, identity: phone },
    ]);
    expect(body.clientContext).toMatch(uuidPattern);
    expect(outcome).toEqual({
      kind: 'invite',
      operationId: (invites[0]!.response as { id: string }).id,
      clientContext: body.clientContext,
      status: 'completed',
      invitees: [
        { identity: alice, joined: true, inLobby: false },
        { identity: carol, joined: true, inLobby: false },
        { identity: phone, joined: true, inLobby: false },
      ],
    });

    const state = await handle.query(botCallStateQuery);
    expect(state.operations).toEqual([outcome]);
    expect(state.operationsInFlight).toBe(0);
    const ids = state.roster.map(
      (participant) => participant.identity.user?.id ?? participant.identity.phone?.id,
    );
    expect(ids).toEqual(expect.arrayContaining([alice.user!.id, carol.user!.id, '+12345678901']));
    await hangUp(handle);
  });

  it('reads delta rosters (deltaParticipants with sequenceNumber) the same way, and honours a given clientContext', async () => {
    stack.sim.configure({ flows: { rosterMode: 'delta' } });
    const { handle, callId } = await heldCall(meeting());
    const outcome = await handle.executeUpdate(inviteParticipantsUpdate, {
      args: [
        {
          participants: [{ identity: alice }, { identity: phone, endpointType: 'default' }],
          clientContext: 'my-context-1',
        },
      ],
    });
    expect(outcome).toMatchObject({
      kind: 'invite',
      clientContext: 'my-context-1',
      status: 'completed',
      invitees: [
        { identity: alice, joined: true, inLobby: false },
        { identity: phone, joined: true, inLobby: false },
      ],
    });
    expect((invitesTo(callId)[0]!.body as { participants: unknown[] }).participants).toEqual([
      { '@odata.type': '#microsoft.graph.invitationParticipantInfo', identity: alice },
      {
        '@odata.type': '#microsoft.graph.invitationParticipantInfo',
        identity: phone,
        endpointType: 'default',
      },
    ]);
    // The notifications really were deltas.
    const rosterBodies = stack.sim.deliveries
      .filter((delivery) => delivery.url === stackCallbackUri(stack, handle.workflowId))
      .map((delivery) => JSON.stringify(delivery.body));
    expect(
      rosterBodies.some((text) => text.includes('deltaParticipants') && text.includes('sequenceNumber')),
    ).toBe(true);

    // A clientContext already used on this call is refused: Graph's reports are matched by it.
    await expect(
      handle.executeUpdate(inviteParticipantsUpdate, {
        args: [{ participants: [{ identity: carol }], clientContext: 'my-context-1' }],
      }),
    ).rejects.toSatisfy(
      (error) =>
        error instanceof WorkflowUpdateFailedError && /already used/.test(String(error.cause?.message)),
    );
    expect(invitesTo(callId)).toHaveLength(1);
    await hangUp(handle);
  });

  it('reports who never joined: partly declined → completed with that invitee not joined; all declined → failed with Graph resultInfo', async () => {
    stack.sim.declineInvitees([dave.user!.id!]);
    const { handle } = await heldCall(meeting(), { timeouts: { rosterMs: 1_000 } });
    const partly = await handle.executeUpdate(inviteParticipantsUpdate, {
      args: [{ participants: [{ identity: alice }, { identity: dave }] }],
    });
    expect(partly).toMatchObject({
      status: 'completed',
      invitees: [
        { identity: alice, joined: true },
        { identity: dave, joined: false, inLobby: false },
      ],
    });
    const declined = await handle.executeUpdate(inviteParticipantsUpdate, {
      args: [{ participants: [{ identity: dave }] }],
    });
    expect(declined).toMatchObject({
      status: 'failed',
      resultInfo: { code: 408 },
      reason: expect.stringMatching(/^Graph reports the invite operation failed: .*did not answer/),
      invitees: [{ identity: dave, joined: false, inLobby: false }],
    });
    await hangUp(handle);
  });
});

describe('the update validators', () => {
  it('refuse bad requests with a message naming the problem, and send nothing to Graph', async () => {
    const { handle, callId } = await heldCall(meeting());
    const six = Array.from({ length: 6 }, (_, index) => ({ identity: user(randomUUID(), `user ${index}`) }));
    const refusals: Array<[string, () => Promise<unknown>, RegExp]> = [
      [
        '6 participants',
        () => handle.executeUpdate(inviteParticipantsUpdate, { args: [{ participants: six }] }),
        /at most 5 participants can be invited in one request, got 6/,
      ],
      [
        'no participants',
        () => handle.executeUpdate(inviteParticipantsUpdate, { args: [{ participants: [] }] }),
        /participants must list at least one party/,
      ],
      [
        'a phone number that is not E.164',
        () =>
          handle.executeUpdate(inviteParticipantsUpdate, {
            args: [{ participants: [{ identity: alice }, { identity: { phone: { id: '0123 456' } } }] }],
          }),
        /participants\[1\]\.identity\.phone\.id must be an E\.164 number such as \+12345678901, got "0123 456"/,
      ],
      [
        'an identity without id',
        () =>
          handle.executeUpdate(inviteParticipantsUpdate, {
            args: [{ participants: [{ identity: { user: { displayName: 'Nobody' } } }] }],
          }),
        /participants\[0\]\.identity names no party/,
      ],
      [
        'a clientContext over 256 characters',
        () =>
          handle.executeUpdate(inviteParticipantsUpdate, {
            args: [{ participants: [{ identity: alice }], clientContext: 'x'.repeat(257) }],
          }),
        /clientContext is at most 256 characters, got 257/,
      ],
      [
        'transferIntoCall with two participants',
        () =>
          handle.executeUpdate(transferIntoCallUpdate, {
            // A client may send the invite's shape: Graph would silently read only the first.
            args: [
              {
                participants: [{ identity: alice }, { identity: carol }],
                replacesCallId: randomUUID(),
              } as never,
            ],
          }),
        /transferIntoCall takes exactly one participant/,
      ],
      [
        'transferIntoCall replacing this very call',
        () =>
          handle.executeUpdate(transferIntoCallUpdate, {
            args: [{ participant: { identity: alice }, replacesCallId: callId }],
          }),
        /replacesCallId .* is this very call/,
      ],
      [
        'moveParticipant without participantId',
        () =>
          handle.executeUpdate(moveParticipantUpdate, {
            args: [{ identity: alice, replacesCallId: randomUUID() } as never],
          }),
        /participantId must be the participant's id in the source meeting/,
      ],
    ];
    for (const [what, send, message] of refusals) {
      const error = await send().then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error, what).toBeInstanceOf(WorkflowUpdateFailedError);
      expect({ what, message: String((error as WorkflowUpdateFailedError).cause?.message) }).toEqual({
        what,
        message: expect.stringMatching(message),
      });
    }

    // Nothing reached Graph, and a refused update leaves no trace in the history.
    expect(invitesTo(callId)).toEqual([]);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes)).toEqual([]);
    expect((await handle.query(botCallStateQuery)).operations).toEqual([]);
    await hangUp(handle);
  });

  it('refuse any invite on a P2P call, before Graph is asked', async () => {
    const { handle, callId } = await heldCall({
      kind: 'p2p',
      target: alice,
      media: { kind: 'serviceHosted' },
    });
    const error = await handle
      .executeUpdate(inviteParticipantsUpdate, { args: [{ participants: [{ identity: carol }] }] })
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((error as WorkflowUpdateFailedError).cause?.message)).toMatch(
      /cannot invite participants: this is a peer-to-peer call, and participants can only be invited into a group call with chatInfo/,
    );
    expect(invitesTo(callId)).toEqual([]);
    await hangUp(handle);
  });
});

describe('transferIntoCall (example 3) of a P2P call answered elsewhere', () => {
  let receiver: BotReceiver | undefined;
  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
  });

  it('completes, sees the caller join, and confirms by reading it that the replaced call is gone', async () => {
    receiver = await startBotReceiver();
    // Another system answered this call: its notifications go there, never to Handoff.
    const { callId: p2pCallId } = stack.sim.placeAnsweredCall({
      callbackUri: receiver.callbackUrl('/another-system/calls'),
    });
    const { handle, callId } = await heldCall(meeting());

    const outcome = await handle.executeUpdate(transferIntoCallUpdate, {
      args: [
        { participant: { identity: { user: { id: defaultCaller.user!.id! } } }, replacesCallId: p2pCallId },
      ],
    });
    expect(outcome).toMatchObject({
      kind: 'transferIntoCall',
      status: 'completed',
      operationId: expect.any(String),
      clientContext: expect.stringMatching(uuidPattern),
      replacedCallEnded: true,
      invitees: [{ joined: true, inLobby: false }],
    });
    const invites = invitesTo(callId);
    expect(invites).toHaveLength(1);
    const invite = invites[0]!;
    expect(invite.body).toMatchObject({
      participants: [{ replacesCallId: p2pCallId, identity: { user: { id: defaultCaller.user!.id } } }],
    });
    expect((invite.body as { participants: unknown[] }).participants).toHaveLength(1);

    // Graph ended the P2P call and told the system that held it; Handoff read it to know.
    expect(stack.sim.getCall(p2pCallId)).toMatchObject({ deleted: true, replacedBy: { callId } });
    await stack.sim.whenIdle();
    const told = receiver.received.map((notification) => JSON.stringify(notification.body));
    expect(told.some((text) => text.includes(p2pCallId) && text.includes('terminated'))).toBe(true);
    const reads = stack.sim.requests.filter(
      (request) => request.method === 'GET' && request.path === `/v1.0/communications/calls/${p2pCallId}`,
    );
    expect(reads.map((request) => request.status)).toContain(404);
    // Nobody asked Graph to hang up the replaced call: the transfer ended it.
    expect(
      stack.sim.requests.filter((request) => request.method === 'DELETE' && request.path.includes(p2pCallId)),
    ).toEqual([]);
    await hangUp(handle);
  });
});

describe('moveParticipant (example 5) between two meetings held by two botCall workflows', () => {
  it('moves the participant: completed, joined the target, removed from the source roster (delta roster)', async () => {
    stack.sim.configure({ flows: { rosterMode: 'delta' } });
    const [source, target] = await Promise.all([heldCall(meeting()), heldCall(meeting())]);
    const invited = await source.handle.executeUpdate(inviteParticipantsUpdate, {
      args: [{ participants: [{ identity: carol }] }],
    });
    expect(invited.status).toBe('completed');
    const inSource = (state: BotCallSnapshot) =>
      state.roster.find((participant) => participant.identity.user?.id === carol.user!.id);
    const carolInSource = inSource(await source.handle.query(botCallStateQuery));
    expect(carolInSource).toMatchObject({ joined: true, removed: false });
    expect(carolInSource!.id).not.toBe(carol.user!.id); // Graph's participant id, not the user id

    const moved = await target.handle.executeUpdate(moveParticipantUpdate, {
      args: [{ participantId: carolInSource!.id, identity: carol, replacesCallId: source.callId }],
    });
    expect(moved).toMatchObject({
      kind: 'moveParticipant',
      status: 'completed',
      invitees: [{ identity: carol, joined: true, inLobby: false }],
    });
    expect(invitesTo(target.callId)[0]?.body).toMatchObject({
      participants: [{ participantId: carolInSource!.id, replacesCallId: source.callId, identity: carol }],
    });

    // The source meeting's owner sees Carol leave; Graph's view agrees.
    await waitUntil('Carol removed from the source roster', async () => {
      const entry = inSource(await source.handle.query(botCallStateQuery));
      return entry?.removed ? entry : undefined;
    });
    expect(
      stack.sim
        .getCall(source.callId)
        ?.participants.some((participant) => participant.info.identity.user?.id === carol.user!.id),
    ).toBe(false);
    expect(
      stack.sim
        .getCall(target.callId)
        ?.participants.some((participant) => participant.info.identity.user?.id === carol.user!.id),
    ).toBe(true);
    await Promise.all([hangUp(source.handle), hangUp(target.handle)]);
  });
});

describe('hanging up while an update runs', () => {
  it('ends the invite wait at once and finishes the update before the workflow ends', async () => {
    stack.sim.declineInvitees([dave.user!.id!]);
    // Dave never joins: without the hang-up the invite would wait rosterMs (a minute) for him.
    const { handle, callId } = await heldCall(meeting(), { timeouts: { rosterMs: 60_000 } });
    const update = await handle.startUpdate(inviteParticipantsUpdate, {
      args: [{ participants: [{ identity: alice }, { identity: dave }] }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    await waitUntil('the invite operation done', () => (invitesTo(callId).length === 1 ? true : undefined));
    await waitUntil('Alice in the roster', async () => {
      const state = await handle.query(botCallStateQuery);
      return state.roster.some((participant) => participant.identity.user?.id === alice.user!.id)
        ? true
        : undefined;
    });
    await handle.signal(hangUpSignal);
    const [outcome, result] = await Promise.all([update.result(), handle.result()]);
    expect(outcome).toMatchObject({
      status: 'completed',
      invitees: [
        { identity: alice, joined: true },
        { identity: dave, joined: false },
      ],
    });
    expect(result).toMatchObject({ outcome: 'ended', reason: 'hung up on request', operations: [outcome] });
    // The roster wait was cut short by the call's end, not by its timer.
    const events = (await handle.fetchHistory()).events ?? [];
    const rosterTimers = events.filter(
      (event) => event.timerStartedEventAttributes && summaryOf(event)?.startsWith('wait for the invitees'),
    );
    expect(rosterTimers).toHaveLength(1);
    const rosterTimerId = rosterTimers[0]!.timerStartedEventAttributes!.timerId;
    expect(events.filter((event) => event.timerFiredEventAttributes?.timerId === rosterTimerId)).toEqual([]);
  });
});
