// The cluster soak's parts (issue 13.2 and 13.6) that run without a cluster: the round-robin proxy in
// front of the webhook processes (real HTTP), the lost-notification audit, what Graph saw of each
// disruption, and the HTML report.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { renderSoakReport, type SoakReportInput } from '../bench/soak/html-report.js';
import {
  countNotificationSignals,
  findLostNotifications,
  NOTIFICATIONS_SIGNAL,
} from '../bench/soak/lost-notifications.js';
import { parseSoakArgs, SoakUsageError } from '../bench/soak/options.js';
import { type Disruption, graphSideOutages } from '../bench/soak/outages.js';
import { type RoundRobinProxy, startRoundRobinProxy } from '../bench/soak/proxy.js';
import type { DeliveryRecord } from '../src/simulator/index.js';
import type { HistoryEvent } from './support/handoff-stack.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A stand-in webhook: answers like Handoff's, naming itself, and records what it received. */
async function fakeWebhook(name: string, status = 202): Promise<{ url: string; received: string[] }> {
  const received: string[] = [];
  const server: Server = createServer((request, reply) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push(`${request.method} ${request.url} ${request.headers.authorization} ${body}`);
      const workflowId = request.url?.split('/')[3] ?? '';
      reply
        .writeHead(status, { 'content-type': 'application/json', 'x-webhook': name })
        .end(JSON.stringify({ deliveries: [{ workflowId, outcome: 'signalled' }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** A port nothing listens on: a killed webhook. */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function proxyFor(backends: string[]): Promise<RoundRobinProxy> {
  const proxy = await startRoundRobinProxy(backends);
  closers.push(() => proxy.close());
  return proxy;
}

const post = (url: string, path: string) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer graph-token', 'content-type': 'application/json' },
    body: JSON.stringify({ value: [] }),
  });

describe('the round-robin proxy in front of the webhooks', () => {
  it('hands POSTs to each webhook in turn, passing path, token, body and answer through', async () => {
    const [one, two] = [await fakeWebhook('one'), await fakeWebhook('two')];
    const proxy = await proxyFor([one.url, two.url]);
    const answers: string[] = [];
    for (const workflowId of ['transfer-a', 'transfer-b', 'transfer-a']) {
      const response = await post(proxy.url, `/api/calls/${workflowId}/key`);
      expect(response.status).toBe(202);
      answers.push(response.headers.get('x-webhook') ?? '');
      expect(await response.json()).toEqual({ deliveries: [{ workflowId, outcome: 'signalled' }] });
    }
    expect(answers).toEqual(['one', 'two', 'one']);
    expect(one.received[0]).toBe('POST /api/calls/transfer-a/key Bearer graph-token {"value":[]}');
    expect(two.received).toHaveLength(1);
    expect(Object.fromEntries(proxy.acknowledgedSignals())).toEqual({ 'transfer-a': 2, 'transfer-b': 1 });
  });

  it('skips a webhook that refuses the connection, and answers 503 + Retry-After when none is left', async () => {
    const alive = await fakeWebhook('alive');
    const dead = await deadAddress();
    const proxy = await proxyFor([alive.url, dead]);
    for (let index = 0; index < 2; index++) {
      const response = await post(proxy.url, '/api/calls/transfer-x/key');
      expect(response.status).toBe(202);
      expect(response.headers.get('x-webhook')).toBe('alive');
    }
    expect(proxy.requests.map((request) => request.refusedBy)).toEqual([0, 1]);

    proxy.setBackends([dead]);
    const refused = await post(proxy.url, '/api/calls/transfer-x/key');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    // Only 202s count as delivered.
    expect(proxy.acknowledgedSignals().get('transfer-x')).toBe(2);
  });

  it('does not count a refusal as delivered', async () => {
    const busy = await fakeWebhook('busy', 503);
    const proxy = await proxyFor([busy.url]);
    expect((await post(proxy.url, '/api/calls/transfer-y/key')).status).toBe(503);
    expect(proxy.acknowledgedSignals().size).toBe(0);
  });
});

describe('the lost-notification audit', () => {
  const signal = (name: string) =>
    ({ eventType: 26, workflowExecutionSignaledEventAttributes: { signalName: name } }) as HistoryEvent;

  it("counts the webhook's signals in a history, and no other", () => {
    const events = [
      { eventType: 1 } as HistoryEvent,
      signal(NOTIFICATIONS_SIGNAL),
      signal('cancelTransfer'),
      signal(NOTIFICATIONS_SIGNAL),
    ];
    expect(countNotificationSignals(events)).toBe(2);
  });

  it('finds workflows with fewer signals than 202s, not those with more', () => {
    const acknowledged = new Map([
      ['transfer-a', 3],
      ['transfer-b', 2],
      ['transfer-c', 1],
    ]);
    const signalled = new Map([
      ['transfer-a', 3],
      ['transfer-b', 1],
    ]);
    expect(findLostNotifications(acknowledged, signalled)).toEqual([
      { workflowId: 'transfer-b', acknowledged: 2, signalled: 1 },
      { workflowId: 'transfer-c', acknowledged: 1, signalled: 0 },
    ]);
    expect(findLostNotifications(new Map([['transfer-a', 1]]), new Map([['transfer-a', 4]]))).toEqual([]);
  });
});

describe('what Graph saw of each disruption', () => {
  const t0 = new Date('2026-12-04T00:00:00Z');
  const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
  const delivery = (seconds: number, outcome: number | 'error', attempt = 1): DeliveryRecord =>
    ({
      at: at(seconds),
      attempt,
      ...(outcome === 'error' ? { error: 'ECONNRESET' } : { status: outcome }),
    }) as DeliveryRecord;
  const disruption = (number: number, atSeconds: number, backAtSeconds: number): Disruption => ({
    number,
    kind: 'temporal',
    description: 'restart',
    atSeconds,
    backAtSeconds,
    openTransfers: 1,
    closedTransfers: 0,
  });

  it('counts failed POSTs and retries in the window and times the recovery', () => {
    const deliveries = [
      delivery(9, 202),
      delivery(10.5, 503),
      delivery(11, 503, 2),
      delivery(12, 'error', 3),
      delivery(13, 502),
      delivery(14, 202, 4),
      delivery(100, 503),
    ];
    const [outage] = graphSideOutages([disruption(1, 10, 12)], deliveries, t0);
    expect(outage).toMatchObject({
      disruption: 1,
      failed: 4,
      failedByStatus: { '503': 2, 'network error': 1, '502': 1 },
      retries: 3,
      recoveredAtSeconds: 14,
      outageSeconds: 4,
    });
  });

  it('counts a POST that was in flight when the disruption hit, not one long before', () => {
    const deliveries = [delivery(2, 503), delivery(8, 503), delivery(11, 202, 2)];
    const [outage] = graphSideOutages([disruption(1, 10, 10.5)], deliveries, t0);
    expect(outage).toMatchObject({ failed: 1, retries: 1, recoveredAtSeconds: 11, outageSeconds: 1 });
  });

  it('reports no outage when every POST went through, and ends a window at the next disruption', () => {
    const deliveries = [delivery(1, 202), delivery(21, 503), delivery(22, 202)];
    const outages = graphSideOutages([disruption(1, 0, 5), disruption(2, 20, 25)], deliveries, t0);
    expect(outages[0]).toMatchObject({ failed: 0, outageSeconds: 0 });
    expect(outages[1]).toMatchObject({ failed: 1, outageSeconds: 2 });
  });
});

describe('the HTML report', () => {
  const input: SoakReportInput = {
    title: 'Handoff soak <cluster> & co',
    points: [
      { closedSeconds: 1, durationSeconds: 20, outcome: 'completed' },
      { closedSeconds: 2, durationSeconds: 30, outcome: 'completed' },
      { closedSeconds: 40, durationSeconds: 60, outcome: 'failed' },
    ],
    bands: [{ fromSeconds: 10, toSeconds: 25, label: 'Temporal restarted' }],
    marks: [
      { atSeconds: 10, label: '#1 restart Temporal' },
      { atSeconds: 30, label: '#2 kill worker' },
    ],
    summaryText: 'transfers started: 3 of 3\nRESULT: FAIL <see above>',
    pass: false,
  };

  it('draws every transfer, the outage bands and the annotated kills, self-contained', () => {
    const html = renderSoakReport(input);
    expect(html.match(/<circle class="transfer"/g)).toHaveLength(3);
    expect(html).toContain('fill="#c53030"'); // the failed one
    expect(html.match(/<rect class="outage"/g)).toHaveLength(1);
    expect(html).toContain('<title>Temporal restarted</title>');
    expect(html.match(/<line class="mark"/g)).toHaveLength(2);
    expect(html).toContain('#2 kill worker');
    expect(html).toContain('<polyline class="p50"');
    expect(html).toContain('<polyline class="p95"');
    // Nothing to fetch: no script, no external reference.
    expect(html).not.toMatch(/<script|src=|href=/);
    expect(html).toContain('FAIL');
  });

  it('escapes text from the run', () => {
    const html = renderSoakReport(input);
    expect(html).toContain('Handoff soak &#60;cluster&#62; &#38; co');
    expect(html).toContain('RESULT: FAIL &#60;see above&#62;');
    expect(html).not.toContain('<cluster>');
  });

  it('places the band where the outage was: later in the run is further right', () => {
    const early = renderSoakReport({ ...input, bands: [{ fromSeconds: 5, toSeconds: 6, label: 'a' }] });
    const late = renderSoakReport({ ...input, bands: [{ fromSeconds: 35, toSeconds: 36, label: 'a' }] });
    const xOf = (html: string) => Number(/<rect class="outage" x="([\d.]+)"/.exec(html)?.[1]);
    expect(xOf(late)).toBeGreaterThan(xOf(early));
  });
});

describe('the cluster options', () => {
  it('default to 2 workers, 2 webhooks, 2 webhook kills and 1 Temporal restart', () => {
    expect(parseSoakArgs(['--cluster', '--transfers', '30'])).toMatchObject({
      cluster: true,
      transfers: 30,
      workers: 2,
      webhooks: 2,
      webhookKills: 2,
      temporalRestarts: 1,
      kills: 2,
    });
    expect(parseSoakArgs([])).toMatchObject({ cluster: false, workers: 1, webhooks: 4, webhookKills: 0 });
  });

  it('refuse cluster-only options without --cluster, and a restart of a cluster the soak does not own', () => {
    expect(() => parseSoakArgs(['--webhook-kills', '1'])).toThrow(/--webhook-kills needs --cluster/);
    expect(() => parseSoakArgs(['--cluster-address', '127.0.0.1:7333', '--temporal-restarts', '1'])).toThrow(
      /--temporal-restarts needs a cluster the soak started/,
    );
    expect(() => parseSoakArgs(['--cluster-address', 'nowhere'])).toThrow(SoakUsageError);
    expect(parseSoakArgs(['--cluster-address', '127.0.0.1:7333'])).toMatchObject({
      cluster: true,
      clusterAddress: '127.0.0.1:7333',
      temporalRestarts: 0,
    });
  });
});
