// The webhook's Prometheus metrics, read over HTTP from a real stack's API listener after real traffic:
// a transfer started by a signed incoming call, refused tokens, and requests to both listeners.
import { describe, expect, it } from 'vitest';
import { sharedHandoffStack } from './support/handoff-stack.js';
import { post } from './support/webhook-fixtures.js';

const stack = sharedHandoffStack();

async function scrape(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${url}/metrics`);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/** The value of one sample, e.g. `handoff_notifications_total{kind="call",outcome="started"}`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.lastIndexOf('}'));
    const present = Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`));
    if (present) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('/metrics', () => {
  it('counts requests by listener, route and status, notifications by kind and outcome, and refused tokens by reason', async () => {
    const { handle } = await stack.placeCall();
    await handle.result();
    await post(stack.botUrl, { value: [] }, {});
    await post(stack.botUrl, { value: [] }, { token: 'not.a.jwt' });
    await stack.api('/api/transfers/transfer-unknown-call');

    const scraped = await scrape(stack.apiUrl);
    expect(scraped.status).toBe(200);
    expect(scraped.type).toContain('text/plain');
    const { text } = scraped;
    expect(
      sample(text, 'handoff_http_requests_total', {
        listener: 'webhook',
        route: '/api/calls',
        status: '202',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'handoff_http_requests_total', {
        listener: 'webhook',
        route: '/api/calls/:workflowId/:callbackKey',
        status: '202',
      }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      sample(text, 'handoff_http_requests_total', {
        listener: 'api',
        route: '/api/transfers/:workflowId',
        status: '404',
      }),
    ).toBe(1);
    expect(
      sample(text, 'handoff_http_request_duration_seconds_count', {
        listener: 'webhook',
        route: '/api/calls',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'handoff_notifications_total', { kind: 'call', outcome: 'started' })).toBe(1);
    expect(
      sample(text, 'handoff_notifications_total', { kind: 'call', outcome: 'signalled' }),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'handoff_notification_token_refusals_total', { reason: 'missing' })).toBe(1);
    expect(sample(text, 'handoff_notification_token_refusals_total', { reason: 'malformed' })).toBe(1);
    // Process metrics come with it.
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('is served on the private API listener only: the public webhook has no /metrics', async () => {
    expect((await scrape(stack.webhookUrl)).status).toBe(404);
  });
});
