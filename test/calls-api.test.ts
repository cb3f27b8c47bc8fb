// The bot-calls API (issue 5) end to end: the real webhook over HTTP starts and drives `botCall`
// workflows on a Temporal dev server, a real worker runs them against the Graph simulator. Checks
// what reaches Graph as well as what the API answers: refused requests must send nothing.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RequestRecord } from '../src/simulator/index.js';
import { getFreePort } from '../src/temporal/ports.js';
import { buildApiServer } from '../src/webhook/index.js';
import type { BotCallStatus } from '../src/webhook/routes/calls-api.js';
import type { CallRequest } from '../src/workflows/bot-call/types.js';
import { sharedHandoffStack, waitUntil } from './support/handoff-stack.js';
import { post } from './support/webhook-fixtures.js';

const stack = sharedHandoffStack();

const user = (id: string, displayName: string) => ({ identity: { user: { id, displayName } } });
const john = user('112f7296-5fa4-42ca-bae8-6a692b15d4b8', 'John');
const user1 = user('98da8a1a-1b87-452c-a713-65d3f10b5555', 'user1');
const user2 = user('bf5aae9a-d11d-47a8-93b1-782504c95555', 'user2');
const jane = user('5b1f4a2e-0c7d-4e3a-9f8b-6a2d1c0e9b47', 'Jane');
const pstn = { identity: { phone: { id: '+12345678901' } } };

const invitePath = /^\/v1\.0\/communications\/calls\/[^/]+\/participants\/invite$/i;

function invitesTo(callId: string): RequestRecord[] {
  return stack.sim.requests.filter(
    (request) =>
      request.method === 'POST' &&
      invitePath.test(request.path) &&
      request.path.toLowerCase().includes(callId.toLowerCase()),
  );
}

async function status(workflowId: string): Promise<BotCallStatus> {
  const answer = await stack.api(`/api/bot-calls/${workflowId}`);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

/** Starts a bot call over HTTP and waits until the API shows it established. */
async function establishedCall(
  request: CallRequest,
  id?: string,
): Promise<{ workflowId: string; callId: string }> {
  const started = await stack.api('/api/bot-calls', { request, ...(id ? { id } : {}) });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  expect(started.body).toEqual({ workflowId: expect.stringMatching(/^call-/), runId: expect.any(String) });
  const { workflowId } = started.body;
  const view = await waitUntil(`${workflowId} established`, async () => {
    const current = await status(workflowId);
    return current.snapshot?.phase === 'established' ? current : undefined;
  });
  return { workflowId, callId: view.snapshot!.callId! };
}

describe('a group call held by the bot', () => {
  let call: { workflowId: string; callId: string };

  beforeAll(async () => {
    call = await establishedCall({
      kind: 'groupCall',
      targets: [john.identity, jane.identity],
      media: { kind: 'serviceHosted' },
    });
  });

  it('invites two users and a PSTN number and answers the outcome: every invitee joined', async () => {
    const answer = await stack.api(`/api/bot-calls/${call.workflowId}/invitations`, {
      participants: [user1, user2, pstn],
      clientContext: 'calls-api-test-invite',
    });

    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body, JSON.stringify(answer.body)).toMatchObject({
      kind: 'invite',
      status: 'completed',
      clientContext: 'calls-api-test-invite',
      operationId: expect.any(String),
      invitees: [
        { identity: user1.identity, joined: true, inLobby: false },
        { identity: user2.identity, joined: true, inLobby: false },
        { identity: pstn.identity, joined: true, inLobby: false },
      ],
    });
    // One invite reached Graph, with the phone number as Graph wants it (participant invite, example 4).
    const invites = invitesTo(call.callId);
    expect(invites).toHaveLength(1);
    expect((invites[0]?.body as { participants?: unknown[] } | undefined)?.participants).toEqual([
      expect.objectContaining({ identity: expect.objectContaining(user1.identity) }),
      expect.objectContaining({ identity: expect.objectContaining(user2.identity) }),
      expect.objectContaining({
        identity: expect.objectContaining({ phone: expect.objectContaining({ id: '+12345678901' }) }),
      }),
    ]);
    // The workflow remembers it: the snapshot lists the operation.
    const view = await status(call.workflowId);
    expect(view.snapshot?.operations.map((operation) => operation.operationId)).toContain(
      answer.body.operationId,
    );
  });

  it('runs an operation once per Idempotency-Key: a retry answers the same outcome, Graph sees one invite', async () => {
    const before = invitesTo(call.callId).length;
    const invite = () =>
      fetch(`${stack.apiUrl}/api/bot-calls/${call.workflowId}/invitations`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${stack.apiToken}`,
          'content-type': 'application/json',
          'idempotency-key': `retry-${call.workflowId}`,
        },
        body: JSON.stringify({
          participants: [{ identity: { user: { id: 'c0ffee00-0000-4000-8000-000000000001' } } }],
        }),
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as { operationId: string },
      }));

    const first = await invite();
    const retry = await invite();

    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(retry).toEqual(first);
    expect(invitesTo(call.callId)).toHaveLength(before + 1);
  });

  it('refuses six invitees with a 400 naming the field, before Temporal or Graph hear of it', async () => {
    const before = invitesTo(call.callId).length;
    const answer = await stack.api(`/api/bot-calls/${call.workflowId}/invitations`, {
      participants: [john, user1, user2, pstn, user('a1', 'a1'), user('a2', 'a2')],
    });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_invite_request');
    expect(answer.body.error.message).toMatch(/participants: at most 5 participants/);
    expect(invitesTo(call.callId)).toHaveLength(before);
  });

  it('refuses a phone number that is not E.164, naming where it is', async () => {
    const answer = await stack.api(`/api/bot-calls/${call.workflowId}/invitations`, {
      participants: [{ identity: { phone: { id: '0123 456' } } }],
    });

    expect(answer.status).toBe(400);
    expect(answer.body.error.issues).toEqual([
      { path: 'participants[0].identity.phone.id', message: expect.stringMatching(/E\.164/) },
    ]);
  });

  it('refuses a transfer that names two participants: Graph would use only the first', async () => {
    const before = invitesTo(call.callId).length;
    for (const body of [
      { participant: [john, user1], replacesCallId: 'a-p2p-call' },
      { participants: [john, user1], replacesCallId: 'a-p2p-call' },
    ]) {
      const answer = await stack.api(`/api/bot-calls/${call.workflowId}/transfers`, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('invalid_transfer_request');
      expect(answer.body.error.message).toMatch(/exactly one participant/);
    }
    expect(invitesTo(call.callId)).toHaveLength(before);
  });

  it('hangs up on request (202) and the workflow ends with the call; then operations get 409', async () => {
    const answer = await stack.api(`/api/bot-calls/${call.workflowId}/hang-up`, {});
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ workflowId: call.workflowId, status: 'HANG_UP_REQUESTED' });

    const ended = await waitUntil(`${call.workflowId} to end`, async () => {
      const view = await status(call.workflowId);
      return view.status === 'RUNNING' ? undefined : view;
    });
    expect(ended).toMatchObject({
      status: 'COMPLETED',
      phase: 'ended',
      result: { outcome: 'ended', callId: call.callId },
    });
    expect(
      stack.sim.requests.some(
        (request) =>
          request.method === 'DELETE' && request.path.toLowerCase().endsWith(call.callId.toLowerCase()),
      ),
    ).toBe(true);
    expect(stack.sim.getCall(call.callId)?.state).toBe('terminated');

    const late = await stack.api(`/api/bot-calls/${call.workflowId}/invitations`, { participants: [john] });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('bot_call_finished');
    expect((await stack.api(`/api/bot-calls/${call.workflowId}/hang-up`, {})).status).toBe(409);
  });
});

describe('a P2P call held by the bot', () => {
  it("refuses an invite through the workflow's validator: 400 with its reason, no Graph invite", async () => {
    const id = `p2p-${randomUUID()}`;
    const call = await establishedCall(
      { kind: 'p2p', target: john.identity, media: { kind: 'serviceHosted' } },
      id,
    );
    expect(call.workflowId).toBe(`call-${id}`);
    const again = await stack.api('/api/bot-calls', {
      request: { kind: 'p2p', target: john.identity, media: { kind: 'none' } },
      id,
    });
    // The id names the call as an Idempotency-Key would: another request under it is refused.
    expect(again.status).toBe(422);
    expect(again.body.error.code).toBe('idempotency_key_reused');

    const answer = await stack.api(`/api/bot-calls/${call.workflowId}/invitations`, {
      participants: [user1],
    });

    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body.error.code).toBe('operation_refused');
    expect(answer.body.error.message).toMatch(/peer-to-peer call.*group call with chatInfo/);
    expect(invitesTo(call.callId)).toHaveLength(0);
    // A refused update leaves no trace in the workflow's history.
    const history = await stack.history(call.workflowId);
    expect(history.some((event) => event.workflowExecutionUpdateAcceptedEventAttributes)).toBe(false);

    expect((await stack.api(`/api/bot-calls/${call.workflowId}/hang-up`, {})).status).toBe(202);
    await stack.client.workflow.getHandle(call.workflowId).result();
  });
});

describe('requests the API refuses before Temporal', () => {
  it('answers 404 for a workflow that does not exist, or is not a bot call', async () => {
    const { workflowId: transferId } = await stack.placeCall();
    for (const workflowId of ['call-does-not-exist', transferId]) {
      for (const [path, body] of [
        [`/api/bot-calls/${workflowId}`, undefined],
        [`/api/bot-calls/${workflowId}/invitations`, { participants: [john] }],
        [
          `/api/bot-calls/${workflowId}/moves`,
          { participantId: 'p-1', ...john, replacesCallId: 'other-call' },
        ],
        [`/api/bot-calls/${workflowId}/hang-up`, {}],
      ] as const) {
        const answer = await stack.api(path, body);
        expect(answer.status, path).toBe(404);
        expect(answer.body.error).toEqual({
          code: 'bot_call_not_found',
          message: `no bot call with workflow id ${workflowId}`,
        });
      }
    }
  });

  it('refuses a call request that could never work, naming each field', async () => {
    const answer = await stack.api('/api/bot-calls', {
      request: {
        kind: 'pstn',
        phoneNumber: '12345',
        applicationInstance: { id: '' },
        media: { kind: 'appHosted' },
      },
    });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_bot_call_request');
    expect(answer.body.error.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([
      'request.applicationInstance.id',
      'request.media.blob',
      'request.phoneNumber',
    ]);
  });

  it('needs the API token', async () => {
    const response = await fetch(`${stack.apiUrl}/api/bot-calls/call-anything`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });
});

describe('while Temporal cannot be reached', () => {
  it('answers 503 with Retry-After, so the caller retries later', async () => {
    // Nothing listens on this port: every Temporal call fails as when the server is down.
    const connection = Connection.lazy({ address: `127.0.0.1:${await getFreePort()}` });
    const webhook = buildApiServer({
      temporal: new Client({ connection, namespace: 'default' }),
      taskQueue: 'unreachable',
      namespace: 'default',
      publicBaseUrl: 'https://bot.handoff.test',
      callbackSecrets: stack.config.notifications.callbackSecrets,
      botAppId: stack.sim.botAppId,
      incomingCallPolicy: {},
      notificationAuth: {
        jwksUrl: stack.sim.notificationAuth.jwksUrl,
        issuers: [stack.sim.notificationAuth.issuer],
        audience: stack.sim.notificationAuth.audience,
        allowedTenants: [stack.sim.tenantId],
      },
      logger: false,
    });
    try {
      await webhook.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(webhook.server.address() as AddressInfo).port}`;
      const answers = await Promise.all([
        post(`${url}/api/bot-calls`, {
          request: { kind: 'p2p', target: john.identity, media: { kind: 'none' } },
        }),
        post(`${url}/api/bot-calls/call-somewhere/invitations`, { participants: [john] }),
      ]);
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(answer.body.error.code).toBe('temporal_unavailable');
        expect(answer.headers.get('retry-after')).toBe('5');
      }
    } finally {
      await webhook.close();
      await connection.close();
    }
  });
});
