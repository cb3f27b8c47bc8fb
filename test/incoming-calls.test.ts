// Redirect and reject an incoming call without answering it (issue 11.3; Graph v1.0 "call:
// redirect", "call: reject"), end to end: the HTTP API on a real fastify listener starts the
// call's one `incomingCall` workflow on a real Temporal dev server, which sends the request to the
// Graph simulator and follows the call's notifications (real JWTs, the signed callback URL) to
// its outcome. A target that never answers, a call already answered, bad input, duplicate
// requests, duplicated and reordered notifications, and lost notifications each end in a clear
// outcome.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HandoffApiError, HandoffClient } from '../src/client/index.js';
import { incomingCallStartOptions } from '../src/webhook/routes/incoming-calls.js';
import type { IncomingCallResult } from '../src/workflows/incoming-call/definitions.js';
import { incomingCallWorkflowId } from '../src/workflows/incoming-call/definitions.js';
import type { incomingCall } from '../src/workflows/incoming-call/incoming-call.js';
import { sharedBotReceiver } from './support/bot-receiver.js';
import { type ApiAnswer, sharedHandoffStack, waitUntil } from './support/handoff-stack.js';
import { stackCallbackUri } from './support/webhook-fixtures.js';

const stack = sharedHandoffStack();
const receiver = sharedBotReceiver();

const alice = { user: { id: '8b081ef6-4792-4def-b2c9-c363a1bf41d5', displayName: 'Alice' } };
const bob = { user: { id: '2d2c6a4e-6d4d-4b49-9d5c-1b0c4e3f7a10', displayName: 'Bob' } };
const pstn = { phone: { id: '+14255550123' } };

async function placeIncomingCall(): Promise<string> {
  const callId = randomUUID();
  await stack.sim.placeIncomingCall({ botUrl: receiver.callbackUrl(), callId });
  return callId;
}

async function postWithKey(path: string, body: unknown, key: string): Promise<ApiAnswer> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack.apiToken}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** The outcome GET /api/incoming-calls/:callId reports once the run completed. */
async function outcomeOf(callId: string): Promise<IncomingCallResult> {
  return waitUntil(
    `the outcome of incoming call ${callId}`,
    async () => {
      const answer = await stack.api(`/api/incoming-calls/${callId}`);
      return answer.status === 200 && answer.body.status === 'COMPLETED' ? answer.body.result : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}

function graphRequests(callId: string, verb: 'redirect' | 'reject') {
  return stack.sim.requests.filter(
    (request) => request.method === 'POST' && request.path.endsWith(`/calls/${callId}/${verb}`),
  );
}

describe('redirect an incoming call', () => {
  it('sends call: redirect with the targets, timeout and its own callback URL, and reports the call redirected', async () => {
    const callId = await placeIncomingCall();
    const started = await stack.api(`/api/incoming-calls/${callId}/redirect`, {
      targets: [{ identity: alice }, { identity: pstn }],
      timeout: 30,
    });
    expect(started.status).toBe(201);
    const workflowId = incomingCallWorkflowId(callId);
    expect(started.body.workflowId).toBe(workflowId);

    const result = await outcomeOf(callId);
    expect(result).toMatchObject({ callId, action: 'redirect', outcome: 'redirected' });
    const [request, ...more] = graphRequests(callId, 'redirect');
    expect(more).toEqual([]);
    expect(request?.status).toBe(202);
    expect(request?.body).toEqual({
      targets: [{ identity: alice }, { identity: pstn }],
      timeout: 30,
      callbackUri: stackCallbackUri(stack, workflowId),
    });
    // Never answered: no answer request, and Graph no longer has the call.
    expect(stack.sim.requests.some((r) => r.path.endsWith(`/calls/${callId}/answer`))).toBe(false);
    expect(stack.sim.getCall(callId)).toMatchObject({ deleted: true, state: 'terminated' });
    // The redirect's notifications went to the workflow's callback, not the bot's registered URL.
    const kinds = stack.sim.deliveries
      .filter(
        (delivery) => delivery.callId === callId && delivery.url === stackCallbackUri(stack, workflowId),
      )
      .map((delivery) => delivery.kind);
    expect(kinds).toEqual(expect.arrayContaining(['redirecting', 'terminated', 'deleted']));
  });

  it('reports notRedirected with Graph resultInfo when no target ever answers', async () => {
    const nobody = { user: { id: randomUUID(), displayName: 'Nobody' } };
    stack.sim.declineInvitees([nobody.user.id]);
    const callId = await placeIncomingCall();
    const started = await stack.api(`/api/incoming-calls/${callId}/redirect`, {
      targets: [{ identity: nobody }],
    });
    expect(started.status).toBe(201);
    const result = await outcomeOf(callId);
    expect(result.outcome).toBe('notRedirected');
    expect(result.resultInfo?.code).toBe(408);
    expect(result.reason).toMatch(/did not answer/);
  });

  it('reports refused, with what Graph said, for a call that was answered already', async () => {
    const callId = randomUUID();
    stack.sim.placeAnsweredCall({ callbackUri: receiver.callbackUrl('/elsewhere'), callId });
    await stack.api(`/api/incoming-calls/${callId}/redirect`, { targets: [{ identity: bob }] });
    const result = await outcomeOf(callId);
    expect(result.outcome).toBe('refused');
    expect(result.reason).toMatch(/409|only an incoming call/);
    // Refused by Graph (4xx): sent once, not retried.
    expect(graphRequests(callId, 'redirect')).toHaveLength(1);
  });

  it('refuses bad requests naming each field, and starts nothing', async () => {
    const callId = await placeIncomingCall();
    const answer = await stack.api(`/api/incoming-calls/${callId}/redirect`, {
      targets: [{ identity: { phone: { id: '0425 555 0123' } } }],
      timeout: 5,
      forward: true,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_incoming_call_request');
    const paths = answer.body.error.issues.map((issue: { path: string }) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['targets[0].identity.phone.id', 'timeout', '(body)']));
    const empty = await stack.api(`/api/incoming-calls/${callId}/redirect`, { targets: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/targets: targets must name at least one participant/);
    const reject = await stack.api(`/api/incoming-calls/${callId}/reject`, { reason: 'maybe' });
    expect(reject.status).toBe(400);
    expect(reject.body.error.message).toMatch(/reason must be one of none, busy, forbidden/);
    expect((await stack.api(`/api/incoming-calls/${callId}`)).status).toBe(404);
    expect(graphRequests(callId, 'redirect')).toEqual([]);
    expect(stack.sim.getCall(callId)?.state).toBe('incoming');
  });
});

describe('reject an incoming call', () => {
  it('sends call: reject with the reason and reports the call rejected', async () => {
    const callId = await placeIncomingCall();
    const started = await stack.api(`/api/incoming-calls/${callId}/reject`, { reason: 'busy' });
    expect(started.status).toBe(201);
    const result = await outcomeOf(callId);
    expect(result).toMatchObject({ callId, action: 'reject', outcome: 'rejected' });
    const requests = graphRequests(callId, 'reject');
    expect(requests).toHaveLength(1);
    expect(requests[0]?.body).toEqual({
      reason: 'busy',
      callbackUri: stackCallbackUri(stack, incomingCallWorkflowId(callId)),
    });
    expect(stack.sim.getCall(callId)).toMatchObject({ deleted: true });
  });

  it('acts once per call: a second action is 409, a repeated request with its key is the same run', async () => {
    const callId = await placeIncomingCall();
    const key = randomUUID();
    const first = await postWithKey(`/api/incoming-calls/${callId}/reject`, { reason: 'forbidden' }, key);
    const again = await postWithKey(`/api/incoming-calls/${callId}/reject`, { reason: 'forbidden' }, key);
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.runId).toBe(first.body.runId);
    const otherBody = await postWithKey(`/api/incoming-calls/${callId}/reject`, { reason: 'busy' }, key);
    expect(otherBody.status).toBe(422);
    const redirect = await stack.api(`/api/incoming-calls/${callId}/redirect`, {
      targets: [{ identity: bob }],
    });
    expect(redirect.status).toBe(409);
    expect(redirect.body.error.code).toBe('incoming_call_handled');
    expect((await outcomeOf(callId)).outcome).toBe('rejected');
    expect(graphRequests(callId, 'reject')).toHaveLength(1);
    expect(graphRequests(callId, 'redirect')).toEqual([]);
  });
});

describe('Graph failing the request', () => {
  it('after a 500 reads the call, finds it still incoming and sends the redirect again, once', async () => {
    const callId = await placeIncomingCall();
    stack.sim.injectFault({ method: 'POST', path: new RegExp(`/calls/${callId}/redirect$`), status: 500 });
    await stack.api(`/api/incoming-calls/${callId}/redirect`, { targets: [{ identity: alice }] });
    expect((await outcomeOf(callId)).outcome).toBe('redirected');
    expect(graphRequests(callId, 'redirect').map((request) => request.status)).toEqual([500, 202]);
    // The read that showed the first attempt had not taken effect.
    expect(stack.sim.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/calls/${callId}`))).toBe(
      true,
    );
  });

  it('does not send a reject again when its answer is lost but the notifications show it took effect', async () => {
    const callId = await placeIncomingCall();
    // Graph acts at once; its answer comes after the client's 10 s deadline.
    stack.sim.injectFault({ method: 'POST', path: new RegExp(`/calls/${callId}/reject$`), delayMs: 10_500 });
    await stack.api(`/api/incoming-calls/${callId}/reject`, { reason: 'busy' });
    const result = await waitUntil(
      `the outcome of ${callId}`,
      async () => {
        const answer = await stack.api(`/api/incoming-calls/${callId}`);
        return answer.body.status === 'COMPLETED' ? (answer.body.result as IncomingCallResult) : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 250 },
    );
    expect(result.outcome).toBe('rejected');
    expect(graphRequests(callId, 'reject')).toHaveLength(1);
  }, 60_000);
});

describe('handoff/client', () => {
  it('rejects, redirects and reads an incoming call through HandoffClient', async () => {
    const client = new HandoffClient({ baseUrl: stack.apiUrl, token: stack.apiToken });
    const callId = await placeIncomingCall();
    const started = await client.rejectIncomingCall(callId, { reason: 'forbidden' });
    expect(started.workflowId).toBe(incomingCallWorkflowId(callId));
    const status = await waitUntil(
      `the client's view of ${callId}`,
      async () => {
        const answer = await client.getIncomingCall(callId);
        return answer.status === 'COMPLETED' ? answer : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(status.result).toMatchObject({ outcome: 'rejected', action: 'reject' });
    const again = client.redirectIncomingCall(callId, { targets: [{ identity: bob }] });
    await expect(again).rejects.toBeInstanceOf(HandoffApiError);
    await expect(again).rejects.toMatchObject({ status: 409, code: 'incoming_call_handled' });
  });
});

describe('notifications duplicated, reordered or lost', () => {
  it('redirects once and reports redirected when every notification is duplicated and reordered', async () => {
    stack.sim.configure({ notifications: { reorder: true, duplicateRate: 1 } });
    try {
      const callId = await placeIncomingCall();
      await stack.api(`/api/incoming-calls/${callId}/redirect`, { targets: [{ identity: alice }] });
      expect((await outcomeOf(callId)).outcome).toBe('redirected');
      expect(graphRequests(callId, 'redirect')).toHaveLength(1);
      const copies = stack.sim.deliveries.filter((d) => d.callId === callId && d.duplicate);
      expect(copies.length).toBeGreaterThan(0);
    } finally {
      stack.sim.configure({ notifications: { reorder: false, duplicateRate: 0 } });
    }
  });

  it('reads the call when no notification comes, and says so (Temporal client start)', async () => {
    stack.sim.configure({ notifications: { dropKinds: ['redirecting', 'terminated', 'deleted'] } });
    try {
      const callId = await placeIncomingCall();
      const options = incomingCallStartOptions(
        {
          publicBaseUrl: stack.webhookUrl,
          callbackSecrets: stack.config.notifications.callbackSecrets,
          taskQueue: stack.taskQueue,
        },
        callId,
        { kind: 'redirect', targets: [{ identity: alice }] },
      );
      const [input] = options.args;
      const handle = await stack.client.workflow.start<typeof incomingCall>('incomingCall', {
        ...options,
        args: [{ ...input, outcomeTimeoutMs: 2_000 }],
      });
      const result = await handle.result();
      expect(result.outcome).toBe('unconfirmed');
      expect(result.reason).toMatch(/no longer has call/);
      expect(graphRequests(callId, 'redirect')).toHaveLength(1);
    } finally {
      stack.sim.configure({ notifications: { dropKinds: [] } });
    }
  });
});
