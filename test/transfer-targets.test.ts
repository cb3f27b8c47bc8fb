// Issue 5, item 4: the transfer can use any create/join kind that gives a multiparty call as its
// target — a meeting by organizer (the default, covered by transfer-e2e), a meeting by join id, a
// new group call ringing several users, and a meeting joined as a guest who waits in the lobby.
import { describe, expect, it } from 'vitest';
import { seedMeetingTarget } from '../src/config/env.js';
import { defaultCaller } from '../src/simulator/scenarios.js';
import type { TransferResult, TransferTarget } from '../src/workflows/transfer/types.js';
import { sharedBotReceiver } from './support/bot-receiver.js';
import { sharedHandoffStack, waitUntil } from './support/handoff-stack.js';

const stack = sharedHandoffStack();
const ringing = sharedBotReceiver();

const meeting = seedMeetingTarget.kind === 'meeting' ? seedMeetingTarget : undefined;

/** Rings a P2P call that nobody answered yet (to a receiver, so the webhook starts nothing) and transfers it. */
async function transferTo(target: TransferTarget): Promise<{ callId: string; workflowId: string }> {
  const { callId } = await stack.sim.placeIncomingCall({ botUrl: ringing.callbackUrl('/api/calls') });
  const start = await stack.api('/api/transfers', { callId, invitee: defaultCaller, target });
  expect(start.status, JSON.stringify(start.body)).toBe(201);
  return { callId, workflowId: start.body.workflowId };
}

function createdCallBody(groupCallId: string) {
  const created = stack.sim.requests.find(
    (request) =>
      request.method === 'POST' &&
      /\/calls$/.test(request.path) &&
      request.status === 201 &&
      JSON.stringify(request.response ?? '').includes(groupCallId),
  );
  return created?.body as Record<string, unknown> | undefined;
}

describe('transfer targets', () => {
  it('joins a scheduled meeting by join id and passcode', async () => {
    const { workflowId } = await transferTo({
      kind: 'joinMeetingId',
      joinMeetingId: '1234567',
      passcode: 'psw123',
    });
    const result = (await stack.handle(workflowId).result()) as TransferResult;
    expect(result).toMatchObject({ outcome: 'completed', botLeg: 'left' });
    // The caller went into the meeting's call, which the bot then left (`leave`, the default).
    expect(stack.sim.getCall(result.p2pCallId)?.replacedBy?.callId).toBe(result.groupCallId);
    expect(stack.sim.getCall(result.groupCallId!)?.flow).toBe('meeting');
  });

  it('creates a new group call ringing several users, without media', async () => {
    const { workflowId } = await transferTo({
      kind: 'groupCall',
      targets: [
        { user: { id: '98da8a1a-1b87-452c-a713-65d3f10b5555' } },
        { user: { id: 'bf5aae9a-d11d-47a8-93b1-782504c95555' } },
      ],
    });
    const result = (await stack.handle(workflowId).result()) as TransferResult;
    expect(result.outcome).toBe('completed');
    const group = stack.sim.getCall(result.groupCallId!);
    expect(group?.flow).toBe('groupCall');
    expect(stack.sim.getCall(result.p2pCallId)?.replacedBy?.callId).toBe(result.groupCallId);
    expect(result.botLeg).toBe('left');
    const body = createdCallBody(result.groupCallId!);
    expect(body).toMatchObject({ requestedModalities: [] });
    expect(body).not.toHaveProperty('mediaConfig');
    expect(body?.targets).toHaveLength(2);
  });

  it('joins as a guest, waits in the lobby until admitted, then transfers', async () => {
    const invites = () =>
      stack.sim.requests.filter((request) => request.path.endsWith('/participants/invite')).length;
    const invitesBefore = invites();
    const { workflowId } = await transferTo({
      ...meeting!,
      guest: { id: 'd7a3b999-17ac-4bca-9e77-e6a730d2ec2e', displayName: 'Handoff guest' },
    });
    const handle = stack.handle(workflowId);
    const groupCallId = await waitUntil(
      'the bot waits in the lobby',
      () => stack.sim.calls().find((call) => call.flow === 'meeting' && call.state === 'establishing')?.id,
    );
    // Nobody is invited while the bot waits to be let in.
    expect(invites()).toBe(invitesBefore);
    stack.sim.admitFromLobby(groupCallId);
    const result = (await handle.result()) as TransferResult;
    expect(result).toMatchObject({ outcome: 'completed', groupCallId });
  });

  it('refuses a group call target with one party before starting anything', async () => {
    const { callId } = await stack.sim.placeIncomingCall({ botUrl: ringing.callbackUrl('/api/calls') });
    const start = await stack.api('/api/transfers', {
      callId,
      invitee: defaultCaller,
      target: { kind: 'groupCall', targets: [{ user: { id: '98da8a1a-1b87-452c-a713-65d3f10b5555' } }] },
    });
    expect(start.status).toBe(400);
    expect(start.body.error.message).toMatch(/at least 2 parties/);
  });
});
