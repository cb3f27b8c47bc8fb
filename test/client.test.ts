// handoff/client against a real stack (simulator, webhook over HTTP with its token, worker, Temporal
// dev server): every HTTP operation, the typed errors carrying the API's {error:{code,message}},
// and the Temporal definitions it exports matching the ones the workflows and the API use.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BOT_CALL_WORKFLOW_TYPE,
  type BotCallStatus,
  GROUP_CALL_OWNER_WORKFLOW_TYPE,
  HandoffApiError,
  HandoffClient,
  HandoffUnreachableError,
  INCOMING_CALL_WORKFLOW_TYPE,
  NATIVE_TRANSFER_WORKFLOW_TYPE,
  type OperationOutcome,
  ROUTE_CALL_WORKFLOW_TYPE,
  STRAY_CALL_WORKFLOW_TYPE,
  TRANSFER_FAILED,
  TRANSFER_WORKFLOW_TYPE,
  type TransferStatus,
  transferStateQuery,
} from '../src/client/index.js';
import { seedMeetingTarget } from '../src/config/env.js';
import { getFreePort } from '../src/temporal/ports.js';
import { TRANSFER_WORKFLOW_TYPE as API_TRANSFER_TYPE } from '../src/webhook/transfer-start.js';
import * as workflows from '../src/workflows/index.js';
import { TRANSFER_FAILED as WORKFLOW_TRANSFER_FAILED } from '../src/workflows/transfer/types.js';
import {
  buildTestWorkflowBundle,
  type HandoffTestStack,
  startHandoffTestStack,
  startTestTemporal,
  type TestTemporal,
  type TestWorkflowBundle,
} from './support/handoff-stack.js';

let temporal: TestTemporal;
let bundle: TestWorkflowBundle;
let stack: HandoffTestStack;
let client: HandoffClient;

/** The API listener (decisions.md #2: its own listener once it has one, the webhook's until then). */
const apiUrlOf = (testStack: HandoffTestStack): string =>
  (testStack as HandoffTestStack & { apiUrl?: string }).apiUrl ?? testStack.webhookUrl;

const caller = { user: { id: '8a34a46b-3d17-4adc-8dce-dc4e7d572698', displayName: 'Test User' } };

beforeAll(async () => {
  [temporal, bundle] = await Promise.all([startTestTemporal(), buildTestWorkflowBundle()]);
  stack = await startHandoffTestStack({ temporal, workflowBundlePath: bundle.path });
  client = new HandoffClient({ baseUrl: apiUrlOf(stack), token: stack.apiToken });
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.stop();
  bundle?.remove();
});

/** A ringing P2P call whose notifications go to another system: nothing transfers it on its own. */
async function ringingCall(): Promise<string> {
  const { callId } = await stack.sim.placeIncomingCall({
    botUrl: `${stack.sim.url}/_simulator/other-system`,
  });
  return callId;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('handoff/client over HTTP', () => {
  it('starts a transfer, follows it to completion, and refuses a second one with the API error', async () => {
    const callId = await ringingCall();
    const started = await client.startTransfer({ callId, invitee: caller, target: seedMeetingTarget });
    expect(started).toMatchObject({ workflowId: `transfer-${callId}`, runId: expect.any(String) });

    const done = await until<TransferStatus>('the transfer to complete', async () => {
      const status = await client.getTransfer(started.workflowId);
      return status.status === 'RUNNING' ? undefined : status;
    });
    expect(done.status).toBe('COMPLETED');
    expect(done.result).toMatchObject({ outcome: 'completed', groupCallId: expect.any(String) });

    const again = await caught(client.startTransfer({ callId, invitee: caller, target: seedMeetingTarget }));
    expect(again).toBeInstanceOf(HandoffApiError);
    expect(again).toMatchObject({ status: 409, code: 'transfer_exists' });
    expect((again as Error).message).toContain(started.workflowId);

    // A finished transfer cannot be cancelled: the 409 says so.
    const late = await caught(client.cancelTransfer(started.workflowId));
    expect(late).toMatchObject({ status: 409, name: 'HandoffApiError' });
  });

  it('cancels a transfer that is still running', async () => {
    // The bot joins as a guest and waits in the lobby: the transfer runs until admitted or cancelled.
    if (seedMeetingTarget.kind !== 'meeting') throw new Error('the seed target should be a meeting');
    const callId = await ringingCall();
    const { workflowId } = await client.startTransfer({
      callId,
      invitee: caller,
      target: { ...seedMeetingTarget, guest: { id: randomUUID(), displayName: 'Handoff' } },
    });
    await until('the group call waiting in the lobby', async () => {
      const status = await client.getTransfer(workflowId);
      const groupCall = status.snapshot?.calls.find((call) => call.callId !== callId);
      return status.snapshot?.phase === 'creatingGroupCall' && groupCall ? status : undefined;
    });

    const cancelled = await client.cancelTransfer(workflowId);
    expect(cancelled).toMatchObject({ workflowId, status: 'CANCEL_REQUESTED' });
    const ended = await until('the cancelled transfer to end', async () => {
      const status = await client.getTransfer(workflowId);
      return status.status === 'RUNNING' ? undefined : status;
    });
    expect(ended.status).toBe('CANCELLED');
  });

  it('creates a bot call, invites into it and hangs it up', async () => {
    const id = `client-${randomUUID()}`;
    const started = await client.startBotCall({
      request: {
        kind: 'joinMeetingId',
        joinMeetingId: '1234567',
        passcode: 'psw123',
        media: { kind: 'none' },
      },
      id,
    });
    expect(started.workflowId).toBe(`call-${id}`);
    await until<BotCallStatus>('the bot call established', async () => {
      const status = await client.getBotCall(started.workflowId);
      return status.snapshot?.phase === 'established' ? status : undefined;
    });

    const invited = (await client.inviteParticipants(
      started.workflowId,
      { participants: [{ identity: { phone: { id: '+12345678901' } } }] },
      { idempotencyKey: `invite-${id}` },
    )) as OperationOutcome;
    expect(invited).toMatchObject({ kind: 'invite', status: 'completed' });
    expect(invited.invitees).toEqual([expect.objectContaining({ joined: true })]);

    // An operation Graph refuses is an outcome (200), not an error: the call is fine.
    const failed = (await client.transferIntoCall(started.workflowId, {
      participant: { identity: caller },
      replacesCallId: 'no-such-call',
    })) as OperationOutcome;
    expect(failed).toMatchObject({ kind: 'transferIntoCall', status: 'failed' });
    // A request the API refuses is an error naming the field.
    const refused = await caught(client.inviteParticipants(started.workflowId, { participants: [] }));
    expect(refused).toBeInstanceOf(HandoffApiError);
    expect(refused).toMatchObject({ status: 400, code: 'invalid_invite_request' });

    expect(await client.hangUp(started.workflowId)).toMatchObject({ status: 'HANG_UP_REQUESTED' });
    const ended = await until('the bot call to end', async () => {
      const status = await client.getBotCall(started.workflowId);
      return status.status === 'RUNNING' ? undefined : status;
    });
    expect(ended.result).toMatchObject({ outcome: 'ended' });

    const gone = await caught(client.hangUp(started.workflowId));
    expect(gone).toMatchObject({ status: 409, code: 'bot_call_finished' });
  });

  it('turns every error answer into a HandoffApiError with its code, message and issues', async () => {
    const invalid = await caught(
      client.startTransfer({ callId: 'some-call', invitee: caller, target: { kind: 'nowhere' } as never }),
    );
    expect(invalid).toBeInstanceOf(HandoffApiError);
    expect(invalid).toMatchObject({ status: 400, code: expect.stringMatching(/^invalid_/) });
    expect((invalid as HandoffApiError).issues).toEqual([expect.objectContaining({ path: 'target.kind' })]);
    expect((invalid as Error).message).toContain('target.kind');

    expect(await caught(client.getTransfer('transfer-no-such-call'))).toMatchObject({
      status: 404,
      code: 'transfer_not_found',
    });
    expect(await caught(client.getBotCall('call-no-such-call'))).toMatchObject({
      status: 404,
      code: 'bot_call_not_found',
    });

    const wrongToken = new HandoffClient({ baseUrl: apiUrlOf(stack), token: 'not-the-token' });
    const unauthorized = await caught(wrongToken.getTransfer('transfer-x'));
    expect(unauthorized).toMatchObject({ status: 401, name: 'HandoffApiError', code: expect.any(String) });
  });

  it('says which URL it could not reach, and refuses a base URL that is not one', async () => {
    const port = await getFreePort();
    const nobody = new HandoffClient({ baseUrl: `http://127.0.0.1:${port}` });
    const error = await caught(nobody.getTransfer('transfer-x'));
    expect(error).toBeInstanceOf(HandoffUnreachableError);
    expect((error as Error).message).toBe(
      `GET http://127.0.0.1:${port}/api/transfers/transfer-x failed: ECONNREFUSED`,
    );
    expect(() => new HandoffClient({ baseUrl: '127.0.0.1:3979' })).toThrow(
      'baseUrl must be an absolute http(s) URL, got "127.0.0.1:3979"',
    );
  });
});

describe('handoff/client for direct Temporal use', () => {
  it('names the workflow types the worker registers and the failure type a transfer ends with', () => {
    expect(
      [
        TRANSFER_WORKFLOW_TYPE,
        BOT_CALL_WORKFLOW_TYPE,
        GROUP_CALL_OWNER_WORKFLOW_TYPE,
        STRAY_CALL_WORKFLOW_TYPE,
        INCOMING_CALL_WORKFLOW_TYPE,
        ROUTE_CALL_WORKFLOW_TYPE,
        NATIVE_TRANSFER_WORKFLOW_TYPE,
      ].sort(),
    ).toEqual(Object.keys(workflows).sort());
    expect(TRANSFER_WORKFLOW_TYPE).toBe(API_TRANSFER_TYPE);
    expect(TRANSFER_FAILED).toBe(WORKFLOW_TRANSFER_FAILED);
  });

  it('starts a transfer with the Temporal client and queries it with the exported query', async () => {
    const callId = await ringingCall();
    const { workflowId } = await client.startTransfer({ callId, invitee: caller, target: seedMeetingTarget });
    const snapshot = await stack.client.workflow.getHandle(workflowId).query(transferStateQuery);
    expect(snapshot).toMatchObject({ phase: expect.any(String) });
    await stack.client.workflow.getHandle(workflowId).result();
  });
});
