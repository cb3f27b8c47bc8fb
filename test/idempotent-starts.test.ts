// Issue 9.5: starts a client may retry. `POST /api/bot-calls` and `POST /api/transfers` with an
// Idempotency-Key (or a bot call's id) answer the run the first attempt started, over real HTTP on
// the API listener, with a real worker and Temporal dev server and the Graph simulator: Graph sees
// one create-call, never a second dial. Status and cancel routes act only on their own workflow type.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sharedHandoffStack, waitUntil } from './support/handoff-stack.js';
import { testCaller } from './support/webhook-fixtures.js';

const stack = sharedHandoffStack();

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: bodies are asserted with expect().
  body: any;
}

/** POST to the API with the token and, if given, an Idempotency-Key. */
async function postApi(path: string, body: unknown, key?: string): Promise<Answer> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack.apiToken}`,
      'content-type': 'application/json',
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Create-call requests Graph received for this workflow (its callbackUri names it). */
function createCallsFor(workflowId: string): number {
  return stack.sim.requests.filter(
    (request) =>
      request.method === 'POST' &&
      /^\/v1\.0\/communications\/calls$/i.test(request.path) &&
      JSON.stringify(request.body).includes(workflowId),
  ).length;
}

const pstnCall = (phoneNumber: string) => ({
  request: {
    kind: 'pstn',
    phoneNumber,
    applicationInstance: { id: '11111111-2222-4333-8444-555555555555', displayName: 'Handoff line' },
    media: { kind: 'serviceHosted' },
  },
});

const meetingTarget = { kind: 'joinMeetingId', joinMeetingId: '1234567890', passcode: 'psw123' };

describe('POST /api/bot-calls with an Idempotency-Key', () => {
  it('answers every retry, concurrent or later, with the same run: Graph dials the number once', async () => {
    const key = randomUUID();
    const body = pstnCall('+12345678901');
    const concurrent = await Promise.all([1, 2, 3].map(() => postApi('/api/bot-calls', body, key)));
    const later = await postApi('/api/bot-calls', body, key);
    const answers = [...concurrent, later];

    for (const answer of answers) expect([200, 201], JSON.stringify(answer.body)).toContain(answer.status);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect(later.status).toBe(200);
    const workflowId = `call-${key}`;
    for (const answer of answers) {
      expect(answer.body).toMatchObject({ workflowId, runId: concurrent[0]!.body.runId });
    }

    await waitUntil('the create-call request', () => (createCallsFor(workflowId) > 0 ? true : undefined));
    // Time for a second dial to show up, were there one.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(createCallsFor(workflowId)).toBe(1);

    const hangUp = await stack.api(`/api/bot-calls/${workflowId}/hang-up`, {});
    expect([202, 409]).toContain(hangUp.status);
  });

  it('refuses the same key with another body: 422, and nothing is dialled', async () => {
    const key = randomUUID();
    const first = await postApi('/api/bot-calls', pstnCall('+12345678902'), key);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const workflowId: string = first.body.workflowId;
    await waitUntil('the create-call request', () => (createCallsFor(workflowId) > 0 ? true : undefined));

    const other = await postApi('/api/bot-calls', pstnCall('+12345678903'), key);
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(other.body.error.message).toContain(workflowId);
    expect(createCallsFor(workflowId)).toBe(1);
    expect(
      stack.sim.requests.filter((request) => JSON.stringify(request.body ?? '').includes('+12345678903')),
    ).toEqual([]);

    await stack.api(`/api/bot-calls/${workflowId}/hang-up`, {});
  });

  it('treats the body id as the key: the same id and body answer 200 with the same run', async () => {
    const id = `idem-${randomUUID()}`;
    const body = { ...pstnCall('+12345678904'), id };
    const first = await stack.api('/api/bot-calls', body);
    const retry = await stack.api('/api/bot-calls', body);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body).toEqual(first.body);
    await waitUntil('the create-call request', () => (createCallsFor(`call-${id}`) > 0 ? true : undefined));
    expect(createCallsFor(`call-${id}`)).toBe(1);
    await stack.api(`/api/bot-calls/call-${id}/hang-up`, {});
  });

  it('refuses a key that cannot name a call, with a 400 naming the header', async () => {
    const answer = await postApi('/api/bot-calls', pstnCall('+12345678905'), 'not/a/valid/id');
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_idempotency_key');
    expect(answer.body.error.message).toContain('Idempotency-Key');
  });
});

describe('POST /api/transfers with an Idempotency-Key', () => {
  it('answers a retry with the same run even after that run failed: no second attempt starts', async () => {
    // No such call in the simulator: the transfer fails once it reads the call.
    const callId = randomUUID();
    const key = randomUUID();
    const body = { callId, target: meetingTarget, invitee: testCaller, alreadyAnswered: true };
    const first = await postApi('/api/transfers', body, key);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const { workflowId, runId } = first.body;
    expect(workflowId).toBe(`transfer-${callId}`);
    await waitUntil(
      `${workflowId} to fail`,
      async () => {
        const status = await stack.api(`/api/transfers/${workflowId}`);
        return status.body.status !== 'RUNNING' ? status.body.status : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    // A failed transfer may be started again under its id (ALLOW_DUPLICATE_FAILED_ONLY), but a
    // retry of the first request must not start it again.
    const retry = await postApi('/api/transfers', body, key);
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body).toMatchObject({ workflowId, runId });
    expect((await stack.handle(workflowId).describe()).runId).toBe(runId);

    // The same key with another request for that call is refused.
    const other = await postApi(
      '/api/transfers',
      { ...body, target: { ...meetingTarget, joinMeetingId: '999' } },
      key,
    );
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect((await stack.handle(workflowId).describe()).runId).toBe(runId);

    // A new key is a new request: the failed transfer is tried again, in a new run.
    const again = await postApi('/api/transfers', body, randomUUID());
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body.runId).not.toBe(runId);
  });
});

describe('status and cancel routes act on their own workflow type only', () => {
  it('answers 404 for a bot call on /api/transfers and for a transfer on /api/bot-calls, and touches neither', async () => {
    const call = await postApi('/api/bot-calls', pstnCall('+12345678906'), randomUUID());
    expect(call.status, JSON.stringify(call.body)).toBe(201);
    const callWorkflowId: string = call.body.workflowId;
    const transfer = await postApi('/api/transfers', {
      callId: randomUUID(),
      target: meetingTarget,
      invitee: testCaller,
      timeouts: { callEstablishedMs: 60_000 },
    });
    expect(transfer.status, JSON.stringify(transfer.body)).toBe(201);
    const transferWorkflowId: string = transfer.body.workflowId;

    const wrongWay = [
      await stack.api(`/api/transfers/${callWorkflowId}`),
      await stack.api(`/api/transfers/${callWorkflowId}/cancel`, {}),
      await stack.api(`/api/bot-calls/${transferWorkflowId}`),
      await stack.api(`/api/bot-calls/${transferWorkflowId}/hang-up`, {}),
      await stack.api(`/api/bot-calls/${transferWorkflowId}/invitations`, {
        participants: [{ identity: { user: { id: randomUUID() } } }],
      }),
    ];
    expect(wrongWay.map((answer) => [answer.status, answer.body.error.code])).toEqual([
      [404, 'transfer_not_found'],
      [404, 'transfer_not_found'],
      [404, 'bot_call_not_found'],
      [404, 'bot_call_not_found'],
      [404, 'bot_call_not_found'],
    ]);
    const callHistory = await stack.history(callWorkflowId);
    expect(callHistory.some((event) => event.workflowExecutionCancelRequestedEventAttributes)).toBe(false);
    const transferHistory = await stack.history(transferWorkflowId);
    expect(transferHistory.some((event) => event.workflowExecutionSignaledEventAttributes)).toBe(false);
    expect((await stack.client.workflow.getHandle(callWorkflowId).describe()).status.name).toBe('RUNNING');

    await stack.api(`/api/bot-calls/${callWorkflowId}/hang-up`, {});
    await stack.api(`/api/transfers/${transferWorkflowId}/cancel`, {});
  });
});
