// Graph's own answers to a call as the simulator plays them ("call: redirect", "call: reject",
// "call: transfer", v1.0), driven by the real Graph client over HTTP with a real MSAL token: the
// 202, the state checks Graph makes (409, 400 naming the field), and the notifications that follow
// on the call's callback, including a transfer whose target never answers (back to established
// with resultInfo) and a transfer out of a group call (transferee required).
import { randomUUID } from 'node:crypto';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGraphClient,
  type GraphClient,
  type GraphNotification,
  GraphRequestError,
  parseNotifications,
} from '../src/graph/index.js';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';
import { type BotReceiver, startBotReceiver } from './support/bot-receiver.js';
import { waitUntil } from './support/handoff-stack.js';

let sim: GraphSimulator;
let bot: BotReceiver;
let graph: GraphClient;

const alice = { user: { id: '8b081ef6-4792-4def-b2c9-c363a1bf41d5', displayName: 'Alice' } };
const nobody = { user: { id: 'f0f0f0f0-0000-4000-8000-000000000001', displayName: 'Nobody' } };

beforeAll(async () => {
  [sim, bot] = await Promise.all([startSimulator({ seed: 11 }), startBotReceiver()]);
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      authority: sim.msal.authority,
      knownAuthorities: sim.msal.knownAuthorities,
      authorityMetadata: sim.msal.authorityMetadata,
    },
  });
  const token = await msal.acquireTokenByClientCredential({
    scopes: ['https://graph.microsoft.com/.default'],
  });
  graph = createGraphClient({
    baseUrl: sim.graphBaseUrl,
    tokenProvider: { getToken: async () => token?.accessToken as string },
  });
  sim.declineInvitees([nobody.user.id]);
});

afterAll(async () => {
  await sim?.stop();
  await bot?.stop();
});

function callback(): { url: string; path: string } {
  const path = `/api/calls/native-${randomUUID()}`;
  return { url: bot.callbackUrl(path), path };
}

/** What each notification on the callback says, in the order they came (no knobs: in order). */
async function labelsAt(path: string, count: number): Promise<string[]> {
  await sim.whenIdle();
  const notifications = bot.received
    .filter((received) => received.path === path)
    .flatMap((received) => parseNotifications(received.body));
  expect(notifications.length).toBeGreaterThanOrEqual(count);
  return notifications.map(label);
}

function label(notification: GraphNotification): string {
  if (notification.kind === 'participants') return 'roster';
  if (notification.kind !== 'call') return notification.kind;
  if (notification.changeType === 'deleted') return 'deleted';
  const code = notification.call.resultInfo?.code;
  return `${notification.call.state}${code ? ` ${code}` : ''}`;
}

async function refusal(request: Promise<unknown>): Promise<GraphRequestError> {
  const error = await request.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GraphRequestError);
  return error as GraphRequestError;
}

describe('call: transfer', () => {
  it('transfers an established P2P call: transferring, transferAccepted, terminated, deleted', async () => {
    const { url, path } = callback();
    const { callId } = sim.placeAnsweredCall({ callbackUri: url });
    await graph.transferCall(callId, { transferTarget: { identity: alice } });
    expect(await labelsAt(path, 4)).toEqual(['transferring', 'transferAccepted', 'terminated', 'deleted']);
    expect((await refusal(graph.getCall(callId))).status).toBe(404);
    const request = sim.requests.find((r) => r.path.endsWith(`/calls/${callId}/transfer`));
    expect(request).toMatchObject({ status: 202, body: { transferTarget: { identity: alice } } });
  });

  it('a target that never answers: back to established with resultInfo, the call still held', async () => {
    const { url, path } = callback();
    const { callId } = sim.placeAnsweredCall({ callbackUri: url });
    await graph.transferCall(callId, { transferTarget: { identity: nobody } });
    expect(await labelsAt(path, 2)).toEqual(['transferring', 'established 408']);
    expect((await graph.getCall(callId)).state).toBe('established');
  });

  it('out of a group call: transferee required and must be in the roster; then it leaves the roster', async () => {
    const { url, path } = callback();
    const placed = sim.placeGroupCall({
      callbackUri: url,
      participants: [alice, { user: { id: randomUUID() } }],
    });
    const missing = await refusal(graph.transferCall(placed.callId, { transferTarget: { identity: alice } }));
    expect(missing.status).toBe(400);
    expect(missing.message).toMatch(/transferee/);
    const stranger = await refusal(
      graph.transferCall(placed.callId, {
        transferTarget: { identity: alice },
        transferee: { identity: { user: { id: randomUUID() } } },
      }),
    );
    expect(stranger.status).toBe(400);
    const [moving] = placed.participants;
    await graph.transferCall(placed.callId, {
      transferTarget: { identity: { phone: { id: '+14255550123' } } },
      transferee: { identity: moving!.identity, participantId: moving!.id },
    });
    const labels = await labelsAt(path, 4);
    expect(labels.slice(-4)).toEqual(['transferring', 'transferAccepted', 'established', 'roster']);
    const call = sim.getCall(placed.callId);
    expect(call?.participants.map((participant) => participant.id)).not.toContain(moving!.id);
  });

  it('refuses a call that is not established (409) and a phone target not in E.164 (400)', async () => {
    const incoming = randomUUID();
    await sim.placeIncomingCall({ botUrl: bot.callbackUrl(), callId: incoming });
    expect(
      (await refusal(graph.transferCall(incoming, { transferTarget: { identity: alice } }))).status,
    ).toBe(409);
    const { callId } = sim.placeAnsweredCall({ callbackUri: callback().url });
    const phone = await refusal(
      graph.transferCall(callId, { transferTarget: { identity: { phone: { id: '425 555 0123' } } } }),
    );
    expect(phone.status).toBe(400);
  });
});

describe('call: transfer with replacesCallId (consultative) and a target that rings forever', () => {
  const consultationRequest = (callbackUri: string, target = alice) => ({
    '@odata.type': '#microsoft.graph.call',
    callbackUri,
    source: {
      '@odata.type': '#microsoft.graph.participantInfo',
      identity: { application: { id: sim.botAppId } },
    },
    targets: [{ '@odata.type': '#microsoft.graph.invitationParticipantInfo', identity: target }],
    requestedModalities: ['audio' as const],
    mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' as const },
  });

  it('ends the transferred call and the consultation call it replaces, both Transferred', async () => {
    const { url, path } = callback();
    const { callId } = sim.placeAnsweredCall({ callbackUri: url });
    const created = await graph.createCall(consultationRequest(url));
    const consultation = { id: created.id as string };
    await waitUntil('the consultation call established', async () =>
      sim.getCall(consultation.id)?.state === 'established' ? true : undefined,
    );
    await graph.transferCall(callId, {
      transferTarget: { identity: alice, replacesCallId: consultation.id },
    });
    await sim.whenIdle();
    expect(sim.getCall(callId)).toMatchObject({
      state: 'terminated',
      deleted: true,
      terminationReason: 'Transferred',
    });
    expect(sim.getCall(consultation.id)).toMatchObject({
      state: 'terminated',
      deleted: true,
      terminationReason: 'Transferred',
    });
    const labels = await labelsAt(path, 6);
    expect(labels.filter((value) => value.startsWith('transfer'))).toEqual([
      'transferring',
      'transferAccepted',
    ]);
    expect(labels.filter((value) => value === 'deleted')).toHaveLength(2);
  });

  it('refuses a replacesCallId that names no live call of the bot (400), the call untouched', async () => {
    const { url } = callback();
    const { callId } = sim.placeAnsweredCall({ callbackUri: url });
    const unknown = await refusal(
      graph.transferCall(callId, { transferTarget: { identity: alice, replacesCallId: randomUUID() } }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.message).toMatch(/replacesCallId/);
    expect(sim.getCall(callId)?.state).toBe('established');
  });

  it('a P2P call to a party set to ring forever stays establishing until hung up', async () => {
    const ringing = { user: { id: randomUUID(), displayName: 'Busy agent' } };
    sim.configure({ flows: { ringingIdentityIds: [ringing.user.id] } });
    try {
      const { url, path } = callback();
      const created = await graph.createCall(consultationRequest(url, ringing));
      const call = { id: created.id as string };
      await sim.whenIdle();
      expect(sim.getCall(call.id)?.state).toBe('establishing');
      await graph.hangUp(call.id);
      expect(await labelsAt(path, 3)).toEqual(['establishing', 'terminated', 'deleted']);
    } finally {
      sim.configure({ flows: { ringingIdentityIds: [] } });
    }
  });
});

describe('call: redirect and call: reject', () => {
  it('reject: terminated and deleted on the callbackUri it names; a second answer is 409', async () => {
    const callId = randomUUID();
    await sim.placeIncomingCall({ botUrl: bot.callbackUrl(), callId });
    await sim.whenIdle();
    const { url, path } = callback();
    await graph.rejectCall(callId, { reason: 'busy', callbackUri: url });
    expect(await labelsAt(path, 2)).toEqual(['terminated', 'deleted']);
    expect((await refusal(graph.rejectCall(callId, {}))).status).toBe(404);
  });

  it('redirect and reject are refused for an answered call (409), the call untouched', async () => {
    const { callId } = sim.placeAnsweredCall({ callbackUri: callback().url });
    const redirect = await refusal(graph.redirectCall(callId, { targets: [{ identity: alice }] }));
    expect(redirect.status).toBe(409);
    expect((await refusal(graph.rejectCall(callId, { reason: 'none' }))).status).toBe(409);
    expect((await graph.getCall(callId)).state).toBe('established');
  });

  it('redirect: timeout outside 15-90 s or more than 25 targets is a 400 naming the field', async () => {
    const callId = randomUUID();
    await sim.placeIncomingCall({ botUrl: bot.callbackUrl(), callId });
    const tooShort = await refusal(
      graph.redirectCall(callId, { targets: [{ identity: alice }], timeout: 5 }),
    );
    expect(tooShort.status).toBe(400);
    expect(tooShort.message).toMatch(/timeout/);
    const many = Array.from({ length: 26 }, () => ({ identity: { user: { id: randomUUID() } } }));
    expect((await refusal(graph.redirectCall(callId, { targets: many }))).status).toBe(400);
    await waitUntil('the call still incoming', () =>
      sim.getCall(callId)?.state === 'incoming' ? true : undefined,
    );
  });
});
