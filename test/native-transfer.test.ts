// Blind and consultative transfer of an incoming call with Graph's own `call: transfer` (issue
// 11.1-2), end to end: the HTTP API on a real fastify listener starts the call's one
// `nativeTransfer` workflow on a real Temporal dev server, which answers the call in the Graph
// simulator, transfers it (after a consultation call to the target, for consultative) and follows
// the calls' notifications (real JWTs, the signed callback URL) to a clear outcome: transferred,
// a failed transfer, a target that declines or never answers, an operator's complete or abandon.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HandoffApiError, HandoffClient } from '../src/client/index.js';
import type { IdentitySet } from '../src/graph/index.js';
import type { RequestRecord } from '../src/simulator/index.js';
import { nativeTransferStartOptions } from '../src/webhook/routes/native-transfers.js';
import {
  type NativeTransferInput,
  type NativeTransferResult,
  nativeTransferWorkflowId,
} from '../src/workflows/native-transfer/definitions.js';
import type { nativeTransfer } from '../src/workflows/native-transfer/native-transfer.js';
import { sharedBotReceiver } from './support/bot-receiver.js';
import { sharedHandoffStack, waitUntil } from './support/handoff-stack.js';
import { stackCallbackUri } from './support/webhook-fixtures.js';

const stack = sharedHandoffStack();
const receiver = sharedBotReceiver();

const alice = { user: { id: '8b081ef6-4792-4def-b2c9-c363a1bf41d5', displayName: 'Alice' } };

async function placeIncomingCall(): Promise<string> {
  const callId = randomUUID();
  await stack.sim.placeIncomingCall({ botUrl: receiver.callbackUrl(), callId });
  return callId;
}

async function outcomeOf(callId: string, timeoutMs = 45_000): Promise<NativeTransferResult> {
  return waitUntil(
    `the outcome of the transfer of call ${callId}`,
    async () => {
      const answer = await stack.api(`/api/incoming-calls/${callId}/transfer`);
      return answer.status === 200 && answer.body.status === 'COMPLETED' ? answer.body.result : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

async function phaseReached(callId: string, phase: string): Promise<Record<string, unknown>> {
  return waitUntil(
    `the transfer of call ${callId} in phase ${phase}`,
    async () => {
      const answer = await stack.api(`/api/incoming-calls/${callId}/transfer`);
      return answer.body?.snapshot?.phase === phase ? answer.body.snapshot : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}

function graphRequests(method: string, path: RegExp): RequestRecord[] {
  return stack.sim.requests.filter((request) => request.method === method && path.test(request.path));
}

/**
 * Starts a blind nativeTransfer with the Temporal client, as another service would, with input
 * fields the API does not take (shorter waits, a route).
 */
function startBlindTransfer(callId: string, target: IdentitySet, extra: Partial<NativeTransferInput>) {
  const options = nativeTransferStartOptions(
    {
      publicBaseUrl: stack.webhookUrl,
      callbackSecrets: stack.config.notifications.callbackSecrets,
      taskQueue: stack.taskQueue,
      botAppId: stack.sim.botAppId,
    },
    callId,
    { mode: { kind: 'blind', target: { identity: target } } },
  );
  const [input] = options.args;
  return stack.client.workflow.start<typeof nativeTransfer>('nativeTransfer', {
    ...options,
    args: [{ ...input, ...extra }],
  });
}

const transfersOf = (callId: string) => graphRequests('POST', new RegExp(`/calls/${callId}/transfer$`));
const hangUpsOf = (callId: string) => graphRequests('DELETE', new RegExp(`/calls/${callId}$`));

/** The consultation call the workflow placed: the create-call request whose callbackUri names it. */
function consultationCreates(callId: string): RequestRecord[] {
  const callbackUri = stackCallbackUri(stack, nativeTransferWorkflowId(callId));
  return graphRequests('POST', /\/communications\/calls$/).filter(
    (request) => (request.body as { callbackUri?: string } | undefined)?.callbackUri === callbackUri,
  );
}

describe('blind transfer', () => {
  it('answers the call, sends call: transfer with the target, and reports transferred once Graph ended the call', async () => {
    const callId = await placeIncomingCall();
    const started = await stack.api(`/api/incoming-calls/${callId}/transfer`, {
      mode: 'blind',
      target: { identity: alice },
    });
    expect(started.status).toBe(201);
    expect(started.body.workflowId).toBe(nativeTransferWorkflowId(callId));

    const result = await outcomeOf(callId);
    expect(result).toMatchObject({
      callId,
      mode: 'blind',
      outcome: 'transferred',
      terminationReason: 'Transferred',
      transferAccepted: true,
    });
    expect(result.callerCallHungUp).toBeUndefined();
    const answer = graphRequests('POST', new RegExp(`/calls/${callId}/answer$`));
    expect(answer).toHaveLength(1);
    const [transfer, ...more] = transfersOf(callId);
    expect(more).toEqual([]);
    expect(transfer).toMatchObject({ status: 202, body: { transferTarget: { identity: alice } } });
    expect(stack.sim.getCall(callId)).toMatchObject({ state: 'terminated', deleted: true });
    // The bot never hung the caller up: Graph ended the call by transferring it.
    expect(hangUpsOf(callId)).toEqual([]);

    const description = await stack.client.workflow.getHandle(nativeTransferWorkflowId(callId)).describe();
    expect(description.searchAttributes.HandoffFlow).toEqual(['blind-transfer']);
    expect(description.searchAttributes.HandoffTransferState).toEqual(['transferred']);
    expect(description.searchAttributes.HandoffCallIds).toEqual([callId]);
  });

  it('a failed transfer (back to established with resultInfo) is transferFailed, and the caller is hung up, not left in silence', async () => {
    const nobody = { user: { id: randomUUID(), displayName: 'Nobody' } };
    stack.sim.declineInvitees([nobody.user.id]);
    const callId = await placeIncomingCall();
    await stack.api(`/api/incoming-calls/${callId}/transfer`, {
      mode: 'blind',
      target: { identity: nobody },
    });
    const result = await outcomeOf(callId);
    expect(result.outcome).toBe('transferFailed');
    expect(result.resultInfo?.code).toBe(408);
    expect(result.reason).toMatch(/did not answer/);
    expect(result.callerCallHungUp).toBe(true);
    expect(transfersOf(callId)).toHaveLength(1);
    expect(hangUpsOf(callId)).toHaveLength(1);
    expect(stack.sim.getCall(callId)).toMatchObject({
      state: 'terminated',
      terminationReason: 'AppInitiated',
    });
  });

  it('refuses bad requests naming each field, and starts nothing', async () => {
    const callId = await placeIncomingCall();
    const answer = await stack.api(`/api/incoming-calls/${callId}/transfer`, {
      mode: 'sideways',
      target: { identity: { phone: { id: '0425 555 0123' } } },
      extra: 1,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_native_transfer_request');
    const paths = answer.body.error.issues.map((issue: { path: string }) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['mode', 'target.identity.phone.id', '(body)']));
    const blindWithConsultation = await stack.api(`/api/incoming-calls/${callId}/transfer`, {
      mode: 'blind',
      target: { identity: alice },
      complete: 'onRequest',
    });
    expect(blindWithConsultation.status).toBe(400);
    expect(blindWithConsultation.body.error.message).toMatch(
      /complete: complete applies to mode consultative only/,
    );
    const phoneConsultation = await stack.api(`/api/incoming-calls/${callId}/transfer`, {
      mode: 'consultative',
      target: { identity: { phone: { id: '+14255550123' } } },
    });
    expect(phoneConsultation.status).toBe(400);
    expect(phoneConsultation.body.error.message).toMatch(/applicationInstance/);
    expect((await stack.api(`/api/incoming-calls/${callId}/transfer`)).status).toBe(404);
    expect(graphRequests('POST', new RegExp(`/calls/${callId}/answer$`))).toEqual([]);
    expect(stack.sim.getCall(callId)?.state).toBe('incoming');
  });

  it('transfers a call once: a second request is 409, an idempotent repeat the same run', async () => {
    const callId = await placeIncomingCall();
    const body = { mode: 'blind', target: { identity: alice } };
    const first = await stack.api(`/api/incoming-calls/${callId}/transfer`, body);
    expect(first.status).toBe(201);
    const second = await stack.api(`/api/incoming-calls/${callId}/transfer`, body);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('native_transfer_exists');
    expect((await outcomeOf(callId)).outcome).toBe('transferred');
    const complete = await stack.api(`/api/incoming-calls/${callId}/transfer/complete`, {});
    expect(complete.status).toBe(409);

    const keyed = await placeIncomingCall();
    const key = randomUUID();
    const post = async () => {
      const response = await fetch(`${stack.apiUrl}/api/incoming-calls/${keyed}/transfer`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${stack.apiToken}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { runId: string } };
    };
    const [once, again] = [await post(), await post()];
    expect([once.status, again.status]).toEqual([201, 200]);
    expect(again.body.runId).toBe(once.body.runId);
    expect((await outcomeOf(keyed)).outcome).toBe('transferred');
    expect(transfersOf(keyed)).toHaveLength(1);
  });
});

describe('when the notifications never come (Temporal client start)', () => {
  it('reads the call after transferOutcomeMs instead of hanging, and reports what it found', async () => {
    stack.sim.configure({
      notifications: { dropKinds: ['transferring', 'transferAccepted', 'terminated', 'deleted'] },
    });
    try {
      const callId = await placeIncomingCall();
      const handle = await startBlindTransfer(callId, alice, {
        route: 'sales-hours',
        timeouts: { transferOutcomeMs: 2_000 },
      });
      const result = await handle.result();
      // Graph no longer has the call: the transfer took it, although no notification said so.
      expect(result).toMatchObject({ outcome: 'transferred', callId, route: 'sales-hours' });
      expect(result.transferAccepted).toBeUndefined();
      expect(transfersOf(callId)).toHaveLength(1);
      expect(hangUpsOf(callId)).toEqual([]);
      const reads = graphRequests('GET', new RegExp(`/calls/${callId}$`));
      expect(reads.map((request) => request.status)).toContain(404);
    } finally {
      stack.sim.configure({ notifications: { dropKinds: [] } });
    }
  });
});

describe('when the failure is never reported (Temporal client start)', () => {
  it('finds the call still established after transferOutcomeMs: transferFailed, and the caller hung up', async () => {
    const nobody = { user: { id: randomUUID(), displayName: 'Nobody' } };
    stack.sim.declineInvitees([nobody.user.id]);
    // The answer's `established` and the failed transfer's are both lost: reads tell.
    stack.sim.configure({ notifications: { dropKinds: ['established', 'transferring'] } });
    try {
      const callId = await placeIncomingCall();
      const handle = await startBlindTransfer(callId, nobody, {
        timeouts: { answerEstablishedMs: 1_000, transferOutcomeMs: 2_000 },
      });
      const result = await handle.result();
      expect(result).toMatchObject({ outcome: 'transferFailed', callerCallHungUp: true });
      expect(result.reason).toMatch(/still established 2000 ms after the transfer/);
      expect(transfersOf(callId)).toHaveLength(1);
      expect(hangUpsOf(callId)).toHaveLength(1);
    } finally {
      stack.sim.configure({ notifications: { dropKinds: [] } });
    }
  });
});

describe('when the target never answers and Graph never says so (Temporal client start)', () => {
  it('keeps owning the call while it is transferring, reads it, then hangs it up: unconfirmed, no call left', async () => {
    const ringing = { user: { id: randomUUID(), displayName: 'Rings forever' } };
    stack.sim.configure({ flows: { ringingIdentityIds: [ringing.user.id] } });
    try {
      const callId = await placeIncomingCall();
      const handle = await startBlindTransfer(callId, ringing, {
        timeouts: { transferOutcomeMs: 1_000, transferSettleMs: 2_500 },
      });
      const result = await handle.result();
      expect(result).toMatchObject({ outcome: 'unconfirmed', callerCallHungUp: true });
      expect(result.reason).toMatch(/still transferring 2500 ms after the transfer/);
      expect(transfersOf(callId)).toHaveLength(1);
      expect(hangUpsOf(callId)).toHaveLength(1);
      // Read at the first deadline, then every transferOutcomeMs until transferSettleMs ran out.
      const reads = graphRequests('GET', new RegExp(`/calls/${callId}$`));
      expect(reads.length).toBeGreaterThanOrEqual(3);
      // The workflow ended only once the call had: nothing the bot is in is left without an owner.
      expect(stack.sim.getCall(callId)?.deleted).toBe(true);
    } finally {
      stack.sim.configure({ flows: { ringingIdentityIds: [] } });
    }
  });
});

describe('consultative transfer', () => {
  it('whenTargetAnswers: calls the target from the same callback, then transfers with replacesCallId; Graph ends both calls', async () => {
    const callId = await placeIncomingCall();
    const started = await stack.api(`/api/incoming-calls/${callId}/transfer`, {
      mode: 'consultative',
      target: { identity: alice },
    });
    expect(started.status).toBe(201);
    const result = await outcomeOf(callId);
    expect(result).toMatchObject({
      outcome: 'transferred',
      mode: 'consultative',
      targetAnswered: true,
      decidedBy: 'workflow',
    });
    const consultationCallId = result.consultationCallId as string;
    expect(consultationCallId).toBeTruthy();
    const [create, ...moreCreates] = consultationCreates(callId);
    expect(moreCreates).toEqual([]);
    expect(create?.body).toMatchObject({ targets: [{ identity: alice }] });
    const [transfer, ...more] = transfersOf(callId);
    expect(more).toEqual([]);
    expect(transfer?.body).toEqual({
      transferTarget: { identity: alice, replacesCallId: consultationCallId },
    });
    expect(stack.sim.getCall(callId)).toMatchObject({ deleted: true, terminationReason: 'Transferred' });
    expect(stack.sim.getCall(consultationCallId)).toMatchObject({
      deleted: true,
      terminationReason: 'Transferred',
    });
    expect(hangUpsOf(callId)).toEqual([]);
    const description = await stack.client.workflow.getHandle(nativeTransferWorkflowId(callId)).describe();
    expect(description.searchAttributes.HandoffCallIds).toEqual([callId, consultationCallId]);
  });

  it('onRequest: waits with the target on the line until the operator completes it', async () => {
    const callId = await placeIncomingCall();
    await stack.api(`/api/incoming-calls/${callId}/transfer`, {
      mode: 'consultative',
      target: { identity: alice },
      complete: 'onRequest',
    });
    const waiting = await phaseReached(callId, 'awaitingDecision');
    expect(waiting).toMatchObject({ targetAnswered: true, transferring: false });
    expect(transfersOf(callId)).toEqual([]);
    const completed = await stack.api(`/api/incoming-calls/${callId}/transfer/complete`, {});
    expect(completed.status).toBe(200);
    const result = await outcomeOf(callId);
    expect(result).toMatchObject({ outcome: 'transferred', decidedBy: 'operator' });
    expect(transfersOf(callId)[0]?.body).toMatchObject({
      transferTarget: { replacesCallId: result.consultationCallId },
    });
    // Completing twice: the workflow has finished.
    expect((await stack.api(`/api/incoming-calls/${callId}/transfer/complete`, {})).status).toBe(409);
  });

  it('onRequest: an operator abandons it; the consultation call and then the caller are hung up', async () => {
    const callId = await placeIncomingCall();
    await stack.api(`/api/incoming-calls/${callId}/transfer`, {
      mode: 'consultative',
      target: { identity: alice },
      complete: 'onRequest',
    });
    const waiting = await phaseReached(callId, 'awaitingDecision');
    const consultationCallId = waiting.consultationCallId as string;
    const abandoned = await stack.api(`/api/incoming-calls/${callId}/transfer/abandon`, {
      reason: 'agent busy',
    });
    expect(abandoned.status).toBe(200);
    const result = await outcomeOf(callId);
    expect(result).toMatchObject({
      outcome: 'abandoned',
      reason: 'agent busy',
      decidedBy: 'operator',
      callerCallHungUp: true,
    });
    expect(transfersOf(callId)).toEqual([]);
    expect(hangUpsOf(consultationCallId)).toHaveLength(1);
    expect(stack.sim.getCall(consultationCallId)).toMatchObject({ deleted: true });
    expect(stack.sim.getCall(callId)).toMatchObject({ deleted: true, terminationReason: 'AppInitiated' });
  });

  it('a target that declines: abandoned with Graph resultInfo, no transfer, the caller hung up', async () => {
    const decliner = { user: { id: randomUUID(), displayName: 'Decliner' } };
    stack.sim.declineInvitees([decliner.user.id]);
    const callId = await placeIncomingCall();
    await stack.api(`/api/incoming-calls/${callId}/transfer`, {
      mode: 'consultative',
      target: { identity: decliner },
    });
    const result = await outcomeOf(callId);
    expect(result).toMatchObject({ outcome: 'abandoned', targetAnswered: false, callerCallHungUp: true });
    expect(result.resultInfo?.code).toBe(408);
    expect(result.reason).toMatch(/target did not answer/);
    expect(transfersOf(callId)).toEqual([]);
  });

  it('a target that never answers: abandoned after consultationTimeoutMs, the ringing consultation call hung up', async () => {
    const ringing = { user: { id: randomUUID(), displayName: 'Ringing' } };
    stack.sim.configure({ flows: { ringingIdentityIds: [ringing.user.id] } });
    const callId = await placeIncomingCall();
    await stack.api(`/api/incoming-calls/${callId}/transfer`, {
      mode: 'consultative',
      target: { identity: ringing },
      consultationTimeoutMs: 2_000,
    });
    const result = await outcomeOf(callId);
    expect(result).toMatchObject({ outcome: 'abandoned', targetAnswered: false, callerCallHungUp: true });
    expect(result.reason).toMatch(/not established within 2000 ms/);
    const consultationCallId = result.consultationCallId as string;
    expect(hangUpsOf(consultationCallId)).toHaveLength(1);
    expect(stack.sim.getCall(consultationCallId)).toMatchObject({ deleted: true });
    expect(transfersOf(callId)).toEqual([]);
  });

  it('the target hangs up during the consultation: abandoned, the caller hung up', async () => {
    const callId = await placeIncomingCall();
    await stack.api(`/api/incoming-calls/${callId}/transfer`, {
      mode: 'consultative',
      target: { identity: alice },
      complete: 'onRequest',
    });
    const waiting = await phaseReached(callId, 'awaitingDecision');
    stack.sim.endByRemoteParty(waiting.consultationCallId as string);
    const result = await outcomeOf(callId);
    expect(result).toMatchObject({ outcome: 'abandoned', callerCallHungUp: true });
    expect(result.reason).toMatch(/target hung up/);
  });

  it('completes once under duplicated and reordered notifications, and reports a failed transfer the same way', async () => {
    const nobody = { user: { id: randomUUID(), displayName: 'Nobody' } };
    stack.sim.declineInvitees([nobody.user.id]);
    stack.sim.configure({ notifications: { reorder: true, duplicateRate: 1 } });
    try {
      const callId = await placeIncomingCall();
      await stack.api(`/api/incoming-calls/${callId}/transfer`, {
        mode: 'consultative',
        target: { identity: alice },
      });
      const failing = await placeIncomingCall();
      await stack.api(`/api/incoming-calls/${failing}/transfer`, {
        mode: 'blind',
        target: { identity: nobody },
      });
      const [result, failed] = await Promise.all([outcomeOf(callId), outcomeOf(failing)]);
      expect(result).toMatchObject({ outcome: 'transferred', targetAnswered: true });
      expect(transfersOf(callId)).toHaveLength(1);
      expect(consultationCreates(callId)).toHaveLength(1);
      expect(failed).toMatchObject({ outcome: 'transferFailed', callerCallHungUp: true });
      expect(failed.resultInfo?.code).toBe(408);
      expect(transfersOf(failing)).toHaveLength(1);
      const copies = stack.sim.deliveries.filter((d) => d.callId === callId && d.duplicate);
      expect(copies.length).toBeGreaterThan(0);
    } finally {
      stack.sim.configure({ notifications: { reorder: false, duplicateRate: 0 } });
    }
  });

  it('handoff/client: starts, follows, refuses an early complete, and abandons a consultative transfer', async () => {
    const client = new HandoffClient({ baseUrl: stack.apiUrl, token: stack.apiToken });
    const ringing = { user: { id: randomUUID(), displayName: 'Ringing' } };
    stack.sim.configure({ flows: { ringingIdentityIds: [ringing.user.id] } });
    const callId = await placeIncomingCall();
    const started = await client.transferIncomingCall(callId, {
      mode: 'consultative',
      target: { identity: ringing },
      complete: 'onRequest',
    });
    expect(started.workflowId).toBe(nativeTransferWorkflowId(callId));
    await phaseReached(callId, 'consulting');
    // The target has not answered: there is nothing to complete yet, and nothing changes.
    const early = await client.completeNativeTransfer(callId).catch((error: unknown) => error);
    expect(early).toBeInstanceOf(HandoffApiError);
    expect((early as HandoffApiError).status).toBe(409);
    expect((early as HandoffApiError).message).toMatch(/only once the target answered/);
    const snapshot = await client.abandonNativeTransfer(callId, 'caller chose voicemail');
    expect(snapshot).toMatchObject({ phase: 'consulting', targetAnswered: false });
    const result = await outcomeOf(callId);
    expect(result).toMatchObject({
      outcome: 'abandoned',
      reason: 'caller chose voicemail',
      decidedBy: 'operator',
    });
    expect(hangUpsOf(result.consultationCallId as string)).toHaveLength(1);
    expect((await client.getNativeTransfer(callId)).result?.outcome).toBe('abandoned');
    expect(transfersOf(callId)).toEqual([]);
  });
});

describe('blind transfer out of a group call the bot holds (botCall transferParticipant)', () => {
  async function heldGroupCall(targets: unknown[]): Promise<{ workflowId: string; callId: string }> {
    const started = await stack.api('/api/bot-calls', {
      request: { kind: 'groupCall', targets, media: { kind: 'serviceHosted' } },
    });
    expect(started.status).toBe(201);
    const workflowId = started.body.workflowId as string;
    const snapshot = await waitUntil(`${workflowId} established`, async () => {
      const answer = await stack.api(`/api/bot-calls/${workflowId}`);
      return answer.body?.snapshot?.phase === 'established' ? answer.body.snapshot : undefined;
    });
    return { workflowId, callId: snapshot.callId as string };
  }

  it('sends transferTarget + transferee, completes on transferAccepted; the transferee leaves the roster', async () => {
    const bob = { user: { id: randomUUID(), displayName: 'Bob' } };
    const { workflowId, callId } = await heldGroupCall([alice, bob]);
    const moving = stack.sim
      .getCall(callId)
      ?.participants.find((participant) => participant.info.identity.user?.id === bob.user.id);
    const target = { phone: { id: '+14255550199' } };
    const answer = await stack.api(`/api/bot-calls/${workflowId}/blind-transfers`, {
      transferTarget: { identity: target },
      transferee: { identity: bob, participantId: moving?.id },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ kind: 'transfer', status: 'completed', transferAccepted: true });
    const [transfer, ...more] = transfersOf(callId);
    expect(more).toEqual([]);
    expect(transfer?.body).toEqual({
      transferTarget: { identity: target },
      transferee: { identity: bob, participantId: moving?.id },
    });
    expect(stack.sim.getCall(callId)?.participants.map((participant) => participant.id)).not.toContain(
      moving?.id,
    );
    expect(stack.sim.getCall(callId)?.state).toBe('established');
    await stack.api(`/api/bot-calls/${workflowId}/hang-up`, {});
  });

  it('a target that never answers: failed with Graph resultInfo; a missing transferee is a 400 and sends nothing', async () => {
    const nobody = { user: { id: randomUUID(), displayName: 'Nobody' } };
    const bob = { user: { id: randomUUID(), displayName: 'Bob' } };
    stack.sim.declineInvitees([nobody.user.id]);
    const { workflowId, callId } = await heldGroupCall([alice, bob]);
    const refused = await stack.api(`/api/bot-calls/${workflowId}/blind-transfers`, {
      transferTarget: { identity: nobody },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_transfer_request');
    expect(refused.body.error.message).toMatch(/transferee/);
    expect(transfersOf(callId)).toEqual([]);

    const answer = await stack.api(`/api/bot-calls/${workflowId}/blind-transfers`, {
      transferTarget: { identity: nobody },
      transferee: { identity: bob },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ kind: 'transfer', status: 'failed' });
    expect(answer.body.resultInfo.code).toBe(408);
    expect(answer.body.reason).toMatch(/transfer failed/);
    await stack.api(`/api/bot-calls/${workflowId}/hang-up`, {});
  });
});
