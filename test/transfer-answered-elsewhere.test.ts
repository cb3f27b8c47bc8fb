// Issue 5, item 5: the original P2P call was answered by another system, so its notifications go
// there, not to Handoff. The transfer relies on the invite operation and the group call's roster,
// and reads the original call from Graph until it is gone.
import { describe, expect, it } from 'vitest';
import { graphClientFor } from '../src/app/graph.js';
import { seedMeetingTarget } from '../src/config/env.js';
import { defaultCaller } from '../src/simulator/scenarios.js';
import type { TransferResult } from '../src/workflows/transfer/types.js';
import { sharedBotReceiver } from './support/bot-receiver.js';
import { sharedHandoffStack, waitUntil } from './support/handoff-stack.js';

const stack = sharedHandoffStack();
const otherSystem = sharedBotReceiver();

/** Rings the bot's other system (not Handoff) and answers the call there, as that system would. */
async function callAnsweredElsewhere(): Promise<string> {
  const { callId } = await stack.sim.placeIncomingCall({ botUrl: otherSystem.callbackUrl('/api/calls') });
  const graph = graphClientFor(stack.config, stack.sim);
  await graph.answerCall(callId, {
    callbackUri: otherSystem.callbackUrl(`/api/calls/${callId}`),
    acceptedModalities: ['audio'],
    mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
  });
  await waitUntil('the other system sees its call established', () =>
    stack.sim.getCall(callId)?.state === 'established' ? true : undefined,
  );
  return callId;
}

describe('a transfer of a call answered elsewhere', () => {
  it('follows the original call by reading it and completes once Graph has removed it', async () => {
    const callId = await callAnsweredElsewhere();
    const start = await stack.api('/api/transfers', {
      callId,
      invitee: defaultCaller,
      target: seedMeetingTarget,
      alreadyAnswered: true,
      timeouts: { originalCallEndedMs: 20_000 },
    });
    expect(start.status).toBe(201);
    const result = (await stack.handle(start.body.workflowId).result()) as TransferResult;

    expect(result).toMatchObject({ outcome: 'completed', p2pCallId: callId, inviteeSeenInRoster: true });
    // Handoff neither answered the call nor heard of it ending: the terminated/deleted
    // notifications went to the other system, and the workflow read the call until it was gone.
    const handoffRequests = stack.sim.requests.filter((request) => request.path.includes(callId));
    expect(handoffRequests.filter((request) => request.path.endsWith('/answer'))).toHaveLength(1); // the other system's
    expect(handoffRequests.some((request) => request.method === 'GET' && request.status === 404)).toBe(true);
    const elsewhere = otherSystem.received.map((notification) => notification.path);
    expect(elsewhere).toContain(`/api/calls/${callId}`);
    expect(stack.sim.getCall(callId)?.state).toMatch(/terminated|deleted/);
  });

  it('refuses to transfer a call that is not established, and creates no group call', async () => {
    const { callId } = await stack.sim.placeIncomingCall({ botUrl: otherSystem.callbackUrl('/api/calls') });
    const creates = stack.sim.requests.filter(
      (request) => request.method === 'POST' && /\/calls$/.test(request.path),
    ).length;
    const start = await stack.api('/api/transfers', {
      callId,
      invitee: defaultCaller,
      target: seedMeetingTarget,
      alreadyAnswered: true,
    });
    expect(start.status).toBe(201);
    const failure = await stack
      .handle(start.body.workflowId)
      .result()
      .then(
        () => undefined,
        (error: Error) => error,
      );
    expect((failure?.cause as Error | undefined)?.message).toMatch(/is not an established call \(incoming\)/);
    expect(
      stack.sim.requests.filter((request) => request.method === 'POST' && /\/calls$/.test(request.path)),
    ).toHaveLength(creates);
  });
});
