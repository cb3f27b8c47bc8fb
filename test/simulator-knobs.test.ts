/**
 * The simulator's knobs: duplicated, dropped and reordered notifications, delivery retries,
 * throttling and scripted faults, in-process and over the /_simulator HTTP routes.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GraphNotification, parseNotifications } from '../src/graph/index.js';
import { type GraphSimulator, type SimulatorOptions, startSimulator } from '../src/simulator/index.js';
import { type BotReceiver, startBotReceiver } from './support/bot-receiver.js';

/** The JSON body of a response, untyped: tests read whatever Graph JSON came back. */
async function readJson(response: Response) {
  return JSON.parse(await response.text());
}

let bot: BotReceiver;
/** One simulator for the tests that only turn knobs; each test starts from the defaults. */
let sim: GraphSimulator;
let graph: ReturnType<typeof graphClient>;
const started: GraphSimulator[] = [];
const defaults = {
  notifications: {
    duplicateRate: 0,
    dropRate: 0,
    dropKinds: [],
    reorder: false,
    retryDelayMs: 20,
    maxAttempts: 3,
  },
  faults: { throttleRate: 0 },
};

beforeAll(async () => {
  bot = await startBotReceiver();
  sim = await startSimulator();
  graph = graphClient(sim, await tokenFor(sim));
});

beforeEach(() => {
  bot.respondWith(202);
  bot.received.length = 0;
  sim.configure(defaults);
  sim.clearFaults();
});

afterEach(async () => {
  await sim.whenIdle();
  await Promise.all(started.splice(0).map((other) => other.stop()));
});

afterAll(async () => {
  await sim?.stop();
  await bot?.stop();
});

/** A simulator of its own, for tests that need a seed or start options. */
async function simulator(options: SimulatorOptions = {}): Promise<GraphSimulator> {
  const other = await startSimulator(options);
  started.push(other);
  return other;
}

/** What happened on the shared simulator since this call. */
function since() {
  const deliveries = sim.deliveries.length;
  const dropped = sim.dropped.length;
  const requests = sim.requests.length;
  return {
    deliveries: () => sim.deliveries.slice(deliveries),
    dropped: () => sim.dropped.slice(dropped),
    requests: () => sim.requests.slice(requests),
  };
}

async function tokenFor(sim: GraphSimulator): Promise<string> {
  const response = await fetch(`${sim.url}/${sim.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sim.clientId,
      client_secret: sim.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    }),
  });
  return (await readJson(response)).access_token as string;
}

function graphClient(sim: GraphSimulator, token: string) {
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sim.graphBaseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
}

function received(): GraphNotification[] {
  return bot.received.flatMap((notification) => parseNotifications(notification.body));
}

function label(notification: GraphNotification): string {
  if (notification.kind === 'call') {
    if (notification.changeType === 'created') return 'incoming';
    if (notification.changeType === 'deleted') return 'deleted';
    return notification.call.state ?? 'call';
  }
  return notification.kind === 'participants' ? 'roster' : notification.kind;
}

const answer = (callbackUri: string) => ({
  callbackUri,
  mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
});

const meetingJoin = (callbackUri: string) => ({
  callbackUri,
  requestedModalities: [],
  chatInfo: { threadId: '19:meeting_simulated@thread.v2', messageId: '0' },
  meetingInfo: {
    '@odata.type': '#microsoft.graph.organizerMeetingInfo',
    organizer: { user: { id: '90ed37dc-d8e3-4e11-9de3-30a955dda06f' } },
  },
});

describe('notification knobs', () => {
  it('duplicateRate 1 posts every notification twice', async () => {
    sim.configure({ notifications: { duplicateRate: 1 } });
    const seen = since();
    const { callId } = await sim.placeIncomingCall({ botUrl: bot.callbackUrl() });
    expect(
      (await graph('POST', `/communications/calls/${callId}/answer`, answer(bot.callbackUrl()))).status,
    ).toBe(202);
    await sim.whenIdle();

    expect(received().map(label)).toEqual([
      'incoming',
      'incoming',
      'establishing',
      'establishing',
      'established',
      'established',
    ]);
    expect(bot.received[0]?.body).toEqual(bot.received[1]?.body);
    expect(seen.deliveries().map((delivery) => delivery.duplicate)).toEqual([
      false,
      true,
      false,
      true,
      false,
      true,
    ]);
  });

  it("dropKinds ['established'] never posts established, while GET still shows the call established", async () => {
    sim.configure({ notifications: { dropKinds: ['established'] } });
    const seen = since();
    const { callId } = await sim.placeIncomingCall({ botUrl: bot.callbackUrl() });
    await graph('POST', `/communications/calls/${callId}/answer`, answer(bot.callbackUrl()));
    await sim.whenIdle();

    expect(received().map(label)).toEqual(['incoming', 'establishing']);
    expect(seen.dropped().map((dropped) => [dropped.kind, dropped.reason])).toEqual([
      ['established', 'dropKinds'],
    ]);
    expect((await graph('GET', `/communications/calls/${callId}`)).body.state).toBe('established');
  });

  it('dropRate 1 posts nothing, and whenIdle still resolves', async () => {
    sim.configure({ notifications: { dropRate: 1 } });
    const seen = since();
    await sim.placeIncomingCall({ botUrl: bot.callbackUrl() });
    await sim.whenIdle();
    expect(bot.received).toHaveLength(0);
    expect(seen.dropped().map((dropped) => dropped.reason)).toEqual(['dropRate']);
  });

  it('reorder with a seed changes the order, reproducibly, and still delivers everything', async () => {
    const orderFor = async (seed: number) => {
      const seeded = await simulator({ seed, notifications: { reorder: true, delayMs: 0 } });
      const seededGraph = graphClient(seeded, await tokenFor(seeded));
      const orders: string[][] = [];
      for (let index = 0; index < 4; index++) {
        bot.received.length = 0;
        expect(
          (await seededGraph('POST', '/communications/calls', meetingJoin(bot.callbackUrl()))).status,
        ).toBe(201);
        await seeded.whenIdle();
        orders.push(received().map(label));
      }
      return orders;
    };
    const first = await orderFor(42);
    const second = await orderFor(42);

    expect(second).toEqual(first);
    for (const order of first) expect([...order].sort()).toEqual(['established', 'establishing', 'roster']);
    expect(first.some((order) => order.join() !== 'establishing,established,roster')).toBe(true);
  });

  it('retries a notification the bot answers with 5xx, and stops at a 4xx', async () => {
    sim.configure({ notifications: { retryDelayMs: 5 } });
    const seen = since();
    let posts = 0;
    bot.respondWith(() => (++posts === 1 ? 503 : 202));
    await sim.placeIncomingCall({ botUrl: bot.callbackUrl() });
    await sim.whenIdle();
    expect(seen.deliveries().map((delivery) => [delivery.attempt, delivery.status])).toEqual([
      [1, 503],
      [2, 202],
    ]);

    const later = since();
    bot.respondWith(400);
    await sim.placeIncomingCall({ botUrl: bot.callbackUrl() });
    await sim.whenIdle();
    expect(later.deliveries().map((delivery) => [delivery.attempt, delivery.status])).toEqual([[1, 400]]);
  });

  it('records a bot that cannot be reached as an error on each attempt', async () => {
    sim.configure({ notifications: { maxAttempts: 2, retryDelayMs: 1 } });
    const seen = since();
    await sim.placeIncomingCall({ botUrl: 'http://127.0.0.1:9/api/calls' });
    await sim.whenIdle();
    expect(
      seen.deliveries().map((delivery) => [delivery.attempt, delivery.status, typeof delivery.error]),
    ).toEqual([
      [1, undefined, 'string'],
      [2, undefined, 'string'],
    ]);
  });

  it('refuses bad knob values with an error naming the field, changing nothing', async () => {
    expect(() => sim.configure({ notifications: { dropRate: 2, dropKinds: ['establised'] } })).toThrow(
      /dropRate[\s\S]*dropKinds|dropKinds[\s\S]*dropRate/,
    );
    expect(sim.settings().notifications).toMatchObject({ dropRate: 0, dropKinds: [] });
    await expect(startSimulator({ faults: { throttleStatuses: [500 as 503] } })).rejects.toThrow(
      /throttleStatuses/,
    );
  });
});

describe('fault knobs', () => {
  it('throttleRate 1 with 503 answers every Graph request 503 with Retry-After', async () => {
    sim.configure({ faults: { throttleRate: 1, throttleStatuses: [503], retryAfterSeconds: 7 } });
    const seen = since();
    const callsBefore = sim.calls().length;
    const throttled = await graph('POST', '/communications/calls', meetingJoin(bot.callbackUrl()));
    expect(throttled.status).toBe(503);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(throttled.body.error.code).toBe('ServiceUnavailable');
    expect(sim.calls()).toHaveLength(callsBefore);

    sim.configure({ faults: { throttleRate: 0 } });
    expect((await graph('POST', '/communications/calls', meetingJoin(bot.callbackUrl()))).status).toBe(201);
    expect(seen.requests().map((request) => request.status)).toEqual([503, 201]);
  });

  it('injectFault answers the next matching request once, then serves normally', async () => {
    const created = await graph('POST', '/communications/calls', meetingJoin(bot.callbackUrl()));
    const invite = { participants: [{ identity: { user: { id: 'someone' } } }] };
    sim.injectFault({ method: 'POST', path: /\/participants\/invite$/, status: 429, retryAfterSeconds: 2 });

    expect((await graph('GET', `/communications/calls/${created.body.id}`)).status).toBe(200);
    const faulted = await graph(
      'POST',
      `/communications/calls/${created.body.id}/participants/invite`,
      invite,
    );
    expect(faulted.status).toBe(429);
    expect(faulted.headers.get('retry-after')).toBe('2');
    expect(faulted.body.error.code).toBe('TooManyRequests');
    expect(sim.getCall(created.body.id)?.operations).toHaveLength(0);

    const served = await graph(
      'POST',
      `/communications/calls/${created.body.id}/participants/invite`,
      invite,
    );
    expect(served.status).toBe(200);
  });

  it('can fault the token endpoint when the fault names its path', async () => {
    sim.injectFault({ path: /oauth2\/v2\.0\/token$/, status: 503, retryAfterSeconds: 3 });
    const issuedBefore = sim.tokensIssued;
    const response = await fetch(`${sim.url}/${sim.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('3');
    expect((await readJson(response)).error).toBe('temporarily_unavailable');
    expect(typeof (await tokenFor(sim))).toBe('string');
    expect(sim.tokensIssued).toBe(issuedBefore + 1);
  });
});

describe('process-mode routes under /_simulator', () => {
  it('changes settings, places incoming calls, injects faults and lists calls over HTTP', async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${sim.url}/_simulator${path}`, {
        method,
        ...(body !== undefined
          ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
          : {}),
      });

    const settings = await admin('PUT', '/settings', { notifications: { duplicateRate: 1 } });
    expect(settings.status).toBe(200);
    expect((await readJson(settings)).notifications.duplicateRate).toBe(1);
    const refused = await admin('PUT', '/settings', { notifications: { delayMs: -1 } });
    expect(refused.status).toBe(400);
    expect((await readJson(refused)).error.message).toMatch(/delayMs/);

    const placed = await admin('POST', '/incoming-calls', { botUrl: bot.callbackUrl() });
    expect(placed.status).toBe(201);
    const { callId } = await readJson(placed);
    await sim.whenIdle();
    expect(bot.received).toHaveLength(2);

    const listed = await readJson(await admin('GET', '/calls'));
    expect(listed.value).toContainEqual(
      expect.objectContaining({ id: callId, state: 'incoming', kind: 'p2p' }),
    );

    expect((await admin('POST', '/faults', { method: 'GET', path: 'calls/', status: 503 })).status).toBe(201);
    expect((await graph('GET', `/communications/calls/${callId}`)).status).toBe(503);
    expect((await graph('GET', `/communications/calls/${callId}`)).status).toBe(200);

    expect((await admin('POST', '/incoming-calls', { botUrl: 'not a url' })).status).toBe(400);
  });

  it('tells other processes how to connect, with URLs for the address they used', async () => {
    const fields = sim;
    const connection = await readJson(await fetch(`${sim.url}/_simulator/connection`));
    expect(connection).toEqual({
      url: fields.url,
      graphBaseUrl: fields.graphBaseUrl,
      tenantId: fields.tenantId,
      clientId: fields.clientId,
      clientSecret: fields.clientSecret,
      botAppId: fields.botAppId,
      msal: fields.msal,
      notificationAuth: fields.notificationAuth,
    });

    // A container reaching it as http://simulator:4010 (docker-compose) gets URLs it can use.
    const viaComposeName = await new Promise<string>((resolve, reject) => {
      const request = httpRequest(`${sim.url}/_simulator/connection`, {
        headers: { host: 'simulator:4010' },
      });
      request.on('response', (response) => {
        let text = '';
        response.on('data', (chunk) => {
          text += chunk;
        });
        response.on('end', () => resolve(text));
      });
      request.on('error', reject);
      request.end();
    });
    const remote = JSON.parse(viaComposeName);
    expect(remote.graphBaseUrl).toBe('http://simulator:4010/v1.0');
    expect(JSON.parse(remote.msal.authorityMetadata).token_endpoint).toBe(
      `http://simulator:4010/${sim.tenantId}/oauth2/v2.0/token`,
    );
    expect(remote.notificationAuth.jwksUrl).toBe('http://simulator:4010/botframework/v1/.well-known/keys');
  });
});
