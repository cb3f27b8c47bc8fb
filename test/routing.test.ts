// Routing rules for incoming calls (issue 11.4-5, docs/routing.md), end to end: the simulator
// places incoming calls at the webhook (real JWTs, real fastify), the rules in force decide, the
// call's `routeCall` workflow on a real Temporal dev server records the decision (history and
// HandoffRoute), asks the decision hook (a real HTTP server here) when a rule says so, and starts
// the chosen flow under its usual id; the simulator shows what reached Graph.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HandoffApiError, HandoffClient } from '../src/client/index.js';
import { seedMeetingTarget } from '../src/config/env.js';
import type { IdentitySet } from '../src/graph/index.js';
import { getFreePort } from '../src/temporal/ports.js';
import { projectRoot } from '../src/temporal/project-root.js';
import { HandoffRoute } from '../src/temporal/search-attributes.js';
import { transferWorkflowId } from '../src/workflows/definitions.js';
import { incomingCallWorkflowId } from '../src/workflows/incoming-call/definitions.js';
import {
  NATIVE_TRANSFER_WORKFLOW_TYPE,
  nativeTransferWorkflowId,
} from '../src/workflows/native-transfer/definitions.js';
import type { RouteCallInput, RouteCallResult } from '../src/workflows/route-call/definitions.js';
import { routeCallWorkflowId } from '../src/workflows/route-call/definitions.js';
import { sharedBotReceiver } from './support/bot-receiver.js';
import { sharedHandoffStack, waitUntil } from './support/handoff-stack.js';
import { post } from './support/webhook-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'handoff-routing-'));
const rulesPath = join(dir, 'rules.yaml');
/** What the decision hook was sent, by path. */
// biome-ignore lint/suspicious/noExplicitAny: bodies are asserted with expect(), not trusted.
const hookRequests: Array<{ path: string; body: any; authorization?: string }> = [];
/** The worker runs in this process: `ask-ok` sends this variable's value as its Authorization. */
process.env.ROUTING_E2E_HOOK_AUTHORIZATION = `Bearer ${randomUUID()}`;
let hook: Server;

const frontDesk = { user: { id: '5e1c7a40-0b9d-4f1e-8c43-7c1f6a2b9d10', displayName: 'Front Desk' } };

function rulesFile(hookUrl: string, downUrl: string, extraRule = ''): string {
  return JSON.stringify({
    version: 'e2e-1',
    targets: { 'front-desk': { identity: frontDesk }, 'seed-meeting': { transfer: seedMeetingTarget } },
    rules: [
      {
        name: 'blocked',
        match: { callerType: ['phone'], phonePrefix: ['+99'] },
        action: { kind: 'reject', reason: 'forbidden' },
      },
      ...[
        ['ask-ok', '+1', `${hookUrl}/ok`],
        ['ask-slow', '+2', `${hookUrl}/slow`],
        ['ask-down', '+3', downUrl],
        ['ask-garbage', '+4', `${hookUrl}/garbage`],
      ].map(([name, prefix, url]) => ({
        name,
        match: { callerType: ['phone'], phonePrefix: [prefix] },
        action: {
          kind: 'ask',
          url,
          timeoutMs: 1_500,
          fallback: { kind: 'reject', reason: 'busy' },
          headers: { authorization: 'ROUTING_E2E_HOOK_AUTHORIZATION' },
        },
      })),
      {
        name: 'guests',
        match: { callerType: ['guest'] },
        action: { kind: 'redirect', targets: ['front-desk'], timeoutSeconds: 20 },
      },
      {
        name: 'apps',
        match: { callerType: ['application'] },
        action: { kind: 'blindTransfer', target: 'front-desk' },
      },
      {
        name: 'withheld',
        match: { callerType: ['anonymous'] },
        action: { kind: 'transfer', target: 'seed-meeting' },
      },
      {
        name: 'colleagues',
        match: { callerType: ['user'] },
        action: { kind: 'transfer', target: 'seed-meeting' },
      },
      ...(extraRule ? [JSON.parse(extraRule)] : []),
    ],
    default: { kind: 'reject', reason: 'none' },
  });
}

let hookUrl = '';
let downUrl = '';

beforeAll(async () => {
  hook = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.on('end', () => {
      const path = request.url ?? '';
      hookRequests.push({
        path,
        body: JSON.parse(text),
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
      });
      const answer = (body: string) =>
        response.writeHead(200, { 'content-type': 'application/json' }).end(body);
      if (path === '/ok')
        answer(
          JSON.stringify({
            action: { kind: 'redirect', targets: ['front-desk'] },
            why: 'the CRM knows this caller',
          }),
        );
      else if (path === '/slow')
        setTimeout(() => answer(JSON.stringify({ action: { kind: 'reject' } })), 5_000);
      else if (path === '/garbage')
        answer(JSON.stringify({ action: { kind: 'transfer', target: 'the-ceo' } }));
      else response.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  // A port nothing listens on: the hook is down.
  downUrl = `http://127.0.0.1:${await getFreePort()}/route`;
  writeFileSync(rulesPath, rulesFile(hookUrl, downUrl));
});

afterAll(async () => {
  await new Promise((resolve) => hook?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const stack = sharedHandoffStack({ env: { HANDOFF_ROUTING_RULES: rulesPath } });
const receiver = sharedBotReceiver();

async function placeCall(caller: IdentitySet): Promise<string> {
  const callId = randomUUID();
  await stack.sim.placeIncomingCall({ botUrl: stack.botUrl, callId, caller });
  return callId;
}

async function routed(callId: string): Promise<RouteCallResult> {
  const workflowId = routeCallWorkflowId(callId);
  await waitUntil(`workflow ${workflowId} to be started by the webhook`, async () => {
    await stack.client.workflow.getHandle(workflowId).describe();
    return true;
  });
  return stack.client.workflow.getHandle(workflowId).result();
}

// biome-ignore lint/suspicious/noExplicitAny: bodies are asserted with expect(), not trusted.
function graphRequests(callId: string, verb: string): Array<{ body: any }> {
  return stack.sim.requests.filter(
    (request) => request.method === 'POST' && request.path.endsWith(`/calls/${callId}/${verb}`),
  );
}

/** Every payload's bytes in a history, as text (payloads are binary in the history's protobuf form). */
function decodedPayloads(value: unknown): string[] {
  if (value instanceof Uint8Array) return [Buffer.from(value).toString('utf8')];
  if (Array.isArray(value)) return value.flatMap(decodedPayloads);
  if (value && typeof value === 'object') return Object.values(value).flatMap(decodedPayloads);
  return [];
}

async function routeOf(workflowId: string): Promise<string | undefined> {
  return (await stack.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(
    HandoffRoute,
  );
}

async function incomingOutcome(callId: string) {
  return waitUntil(
    `the outcome of incoming call ${callId}`,
    async () => {
      const answer = await stack.api(`/api/incoming-calls/${callId}`);
      return answer.status === 200 && answer.body.status === 'COMPLETED' ? answer.body.result : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

describe('a rule decides', () => {
  it('reject: Graph gets call: reject with the reason, and the decision is in the history and HandoffRoute', async () => {
    const callId = await placeCall({ phone: { id: '+99123456789' } });
    const result = await routed(callId);
    expect(result).toMatchObject({
      callId,
      rule: 'blocked',
      action: 'reject',
      route: 'blocked:reject',
      outcome: 'started',
      workflowId: incomingCallWorkflowId(callId),
      workflowType: 'incomingCall',
    });
    expect(await incomingOutcome(callId)).toMatchObject({ action: 'reject', outcome: 'rejected' });
    expect(graphRequests(callId, 'reject').map((request) => request.body)).toEqual([
      expect.objectContaining({ reason: 'forbidden' }),
    ]);
    expect(graphRequests(callId, 'answer')).toEqual([]);
    expect(await routeOf(routeCallWorkflowId(callId))).toBe('blocked:reject');
    expect(await routeOf(incomingCallWorkflowId(callId))).toBe('blocked:reject');
    // The start input carries the decision: rule, action, why, and the rules' version.
    const history = await stack.client.workflow.getHandle(routeCallWorkflowId(callId)).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const [input] = (started?.input?.payloads ?? []).map((payload) =>
      defaultPayloadConverter.fromPayload<RouteCallInput>(payload),
    );
    expect(input?.decision).toEqual({
      rule: 'blocked',
      why: 'rule 0 "blocked" matched callerType, phonePrefix',
      action: { kind: 'reject', reason: 'forbidden' },
    });
    expect(input?.rulesVersion).toBe('e2e-1');
    expect(input?.facts.caller).toEqual({ kind: 'phone', id: '+99123456789' });
  });

  it('redirect: Graph gets call: redirect to the named target, not an answer', async () => {
    const callId = await placeCall({ guest: { id: 'guest-7', displayName: 'Visitor' } });
    expect(await routed(callId)).toMatchObject({ rule: 'guests', action: 'redirect', outcome: 'started' });
    await incomingOutcome(callId);
    const [request, ...more] = graphRequests(callId, 'redirect');
    expect(more).toEqual([]);
    expect(request?.body).toMatchObject({ targets: [{ identity: frontDesk }], timeout: 20 });
    expect(request?.body.callbackUri).toContain(`/api/calls/${incomingCallWorkflowId(callId)}/`);
    expect(graphRequests(callId, 'answer')).toEqual([]);
  });

  it('transfer: the transferCall workflow moves the caller into the named meeting; GET /api/transfers/transfer-<callId> finds it', async () => {
    const callId = await placeCall({
      user: { id: 'e0c4e5a4-1a6b-4c7e-9b55-2f1d3f0b6a11', displayName: 'Colleague' },
    });
    expect(await routed(callId)).toMatchObject({
      rule: 'colleagues',
      action: 'transfer',
      workflowId: transferWorkflowId(callId),
      workflowType: 'transferCall',
    });
    const transfer = await stack.handle(transferWorkflowId(callId)).result();
    expect(transfer).toMatchObject({ p2pCallId: callId });
    expect(graphRequests(callId, 'answer')).toHaveLength(1);
    const invite = stack.sim.requests.find(
      (request) => request.method === 'POST' && request.path.endsWith('/participants/invite'),
    );
    expect(JSON.stringify(invite?.body)).toContain(callId);
    expect(await routeOf(transferWorkflowId(callId))).toBe('colleagues:transfer');
    const status = await stack.api(`/api/transfers/${transferWorkflowId(callId)}`);
    expect(status.status).toBe(200);
  });

  it('blindTransfer: the nativeTransfer workflow is started under its id with the caller, mode blind and the target', async () => {
    const caller = { application: { id: 'f2b0b7de-9d3e-4a7b-8a15-4b3c2d1e0f99', displayName: 'Other Bot' } };
    const callId = await placeCall(caller);
    expect(await routed(callId)).toMatchObject({
      rule: 'apps',
      action: 'blindTransfer',
      workflowId: nativeTransferWorkflowId(callId),
      workflowType: NATIVE_TRANSFER_WORKFLOW_TYPE,
    });
    // This branch's worker does not run nativeTransfer yet (helper "native" builds it): the run
    // exists with the contract's input, which is what routing owes it.
    const handle = stack.client.workflow.getHandle(nativeTransferWorkflowId(callId));
    const described = await handle.describe();
    expect(described.type).toBe(NATIVE_TRANSFER_WORKFLOW_TYPE);
    expect(described.typedSearchAttributes.get(HandoffRoute)).toBe('apps:blindTransfer');
    const history = await handle.fetchHistory();
    const [input] = (history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? []).map(
      // biome-ignore lint/suspicious/noExplicitAny: asserted with expect(), not trusted.
      (payload) => defaultPayloadConverter.fromPayload<Record<string, any>>(payload),
    );
    expect(input).toMatchObject({
      callId,
      caller,
      mode: { kind: 'blind', target: { identity: frontDesk } },
      botAppId: stack.sim.botAppId,
    });
    expect(input?.callbackUri).toContain(`/api/calls/${nativeTransferWorkflowId(callId)}/`);
    expect(input?.route).toBe('apps:blindTransfer');
    await handle.terminate('test: nativeTransfer is not registered on this branch');
  });

  it('transfer of a caller the notification does not name: rejected instead, never answered, and the decision says why', async () => {
    const callId = await placeCall({});
    const result = await routed(callId);
    expect(result).toMatchObject({ rule: 'withheld', action: 'reject', route: 'withheld:reject' });
    expect(result.why).toMatch(
      /matched callerType; rejected instead: a transfer invites the caller by identity/,
    );
    expect(await routeOf(routeCallWorkflowId(callId))).toBe('withheld:reject');
    await incomingOutcome(callId);
    expect(graphRequests(callId, 'reject').map((request) => request.body.reason ?? 'none')).toEqual(['none']);
    expect(graphRequests(callId, 'answer')).toEqual([]);
  });

  it('no rule matches: the default action (reject)', async () => {
    const callId = await placeCall({ phone: { id: '+5511999999999' } });
    expect(await routed(callId)).toMatchObject({ rule: 'default', action: 'reject', why: 'no rule matched' });
    await incomingOutcome(callId);
    expect(graphRequests(callId, 'reject').map((request) => request.body.reason ?? 'none')).toEqual(['none']);
  });
});

describe('the decision hook', () => {
  it("is sent the call's facts and its answer is taken", async () => {
    const callId = await placeCall({ phone: { id: '+14255550123' } });
    const result = await routed(callId);
    expect(result).toMatchObject({
      rule: 'ask-ok',
      action: 'redirect',
      route: 'ask-ok:redirect',
      hook: { answered: true, why: 'the CRM knows this caller' },
    });
    const sent = hookRequests.find((request) => request.path === '/ok' && request.body.callId === callId);
    expect(sent?.body).toMatchObject({
      callId,
      rule: 'ask-ok',
      deadlineMs: 1_500,
      facts: { caller: { kind: 'phone', id: '+14255550123' } },
      targets: { 'front-desk': 'participant', 'seed-meeting': 'transfer' },
    });
    // The value comes from the worker's environment; the history holds only the variable's name.
    expect(sent?.authorization).toBe(process.env.ROUTING_E2E_HOOK_AUTHORIZATION);
    const history = await stack.client.workflow.getHandle(routeCallWorkflowId(callId)).fetchHistory();
    const payloads = decodedPayloads(history).join('\n');
    expect(payloads).toContain('ROUTING_E2E_HOOK_AUTHORIZATION');
    expect(payloads).not.toContain(process.env.ROUTING_E2E_HOOK_AUTHORIZATION);
    await incomingOutcome(callId);
    expect(graphRequests(callId, 'redirect')).toHaveLength(1);
  });

  it.each([
    ['times out', '+2025550100', 'ask-slow', /did not answer within 1500 ms/],
    ['is down', '+3125550100', 'ask-down', /unreachable/],
    ['answers an unknown target', '+4425550100', 'ask-garbage', /unknown target "the-ceo"/],
  ])('%s: the fallback is taken, and why is recorded', async (_what, number, rule, why) => {
    const callId = await placeCall({ phone: { id: number } });
    const result = await routed(callId);
    expect(result).toMatchObject({
      rule,
      action: 'reject',
      route: `${rule}:reject`,
      hook: { answered: false },
    });
    expect(result.hook?.answered === false && result.hook.why).toMatch(why);
    expect(result.why).toMatch(/fallback reject/);
    await incomingOutcome(callId);
    expect(graphRequests(callId, 'reject').map((request) => request.body.reason)).toEqual(['busy']);
  });
});

describe('duplicates', () => {
  it('a repeated incoming notification never routes the call twice, even after the rules changed', async () => {
    // The incoming notification Graph posts, caught on its way, then delivered twice (Graph retries).
    const callId = randomUUID();
    await stack.sim.placeIncomingCall({
      botUrl: receiver.callbackUrl('/api/calls'),
      callId,
      caller: { phone: { id: '+99987654321' } },
    });
    const [incoming] = await receiver.waitFor(1);
    const first = await post(stack.botUrl, incoming?.body, { token: incoming?.token as string });
    expect(first.body.deliveries).toEqual([expect.objectContaining({ outcome: 'started' })]);
    const concurrent = await post(stack.botUrl, incoming?.body, { token: incoming?.token as string });
    expect(concurrent.status).toBe(202);
    await routed(callId);
    await incomingOutcome(callId);
    // The same notification again (Graph retries), now that a catch-all rule would redirect it.
    writeFileSync(
      rulesPath,
      rulesFile(hookUrl, downUrl).replace(
        '"rules":[',
        '"rules":[{"name":"all","action":{"kind":"redirect","targets":["front-desk"]}},',
      ),
    );
    expect((await stack.api('/api/routing-rules/reload', {})).status).toBe(200);
    try {
      const again = await post(stack.botUrl, incoming?.body, { token: incoming?.token as string });
      expect(again.status).toBe(202);
      expect(again.body.deliveries).toEqual([expect.objectContaining({ outcome: 'ignored' })]);
      expect(graphRequests(callId, 'redirect')).toEqual([]);
      expect(graphRequests(callId, 'reject')).toHaveLength(1);
    } finally {
      writeFileSync(rulesPath, rulesFile(hookUrl, downUrl));
      expect((await stack.api('/api/routing-rules/reload', {})).status).toBe(200);
    }
  });
});

describe('duplicates, concurrently (property)', () => {
  it('however many copies of the incoming notification arrive, and in whatever order, the call is routed once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 2, maxLength: 5 }),
        async (delaysMs) => {
          const callId = randomUUID();
          await stack.sim.placeIncomingCall({
            botUrl: receiver.callbackUrl('/api/calls'),
            callId,
            caller: { phone: { id: '+99222222222' } },
          });
          const incoming = await waitUntil(`the incoming notification of ${callId}`, async () =>
            receiver.received.find((notification) => JSON.stringify(notification.body).includes(callId)),
          );
          // Graph's retries and the network's duplicates: the same POST, several times, interleaved.
          const answers = await Promise.all(
            delaysMs.map(async (delayMs) => {
              await new Promise((resolve) => setTimeout(resolve, delayMs));
              return post(stack.botUrl, incoming.body, { token: incoming.token as string });
            }),
          );
          expect(answers.map((answer) => answer.status)).toEqual(delaysMs.map(() => 202));
          expect(await routed(callId)).toMatchObject({ rule: 'blocked', outcome: 'started' });
          await incomingOutcome(callId);
          const history = await stack.client.workflow.getHandle(routeCallWorkflowId(callId)).fetchHistory();
          const childStarts = (history.events ?? []).filter(
            (event) => event.startChildWorkflowExecutionInitiatedEventAttributes,
          );
          expect(childStarts).toHaveLength(1);
          expect(graphRequests(callId, 'reject')).toHaveLength(1);
        },
      ),
      { numRuns: 4 },
    );
  });
});

describe('the rules API', () => {
  it('shows the rules in force; an invalid reload is refused with the rule and field and the old rules stay', async () => {
    const client = new HandoffClient({ baseUrl: stack.apiUrl, token: stack.apiToken });
    const before = await client.getRoutingRules();
    expect(before).toMatchObject({ source: rulesPath, version: 'e2e-1' });
    expect(before.rules.map((rule) => rule.name)).toContain('blocked');

    writeFileSync(
      rulesPath,
      rulesFile(
        hookUrl,
        downUrl,
        JSON.stringify({ name: 'vip', action: { kind: 'blindTransfer', target: 'nobody' } }),
      ),
    );
    try {
      const refused = await client.reloadRoutingRules().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(HandoffApiError);
      expect((refused as HandoffApiError).status).toBe(422);
      expect((refused as HandoffApiError).code).toBe('invalid_routing_rules');
      expect((refused as HandoffApiError).message).toMatch(
        /rules\[9\] \("vip"\): action\.target: unknown target "nobody"/,
      );
      const after = await client.getRoutingRules();
      expect(after.loadedAt).toBe(before.loadedAt);
      expect(after.rules).toEqual(before.rules);
      expect(after.lastReloadError?.message).toMatch(/unknown target "nobody"/);
      // Calls are still routed by the rules in force.
      const callId = await placeCall({ phone: { id: '+99111111111' } });
      expect(await routed(callId)).toMatchObject({ rule: 'blocked' });
    } finally {
      writeFileSync(rulesPath, rulesFile(hookUrl, downUrl));
    }
    const reloaded = await client.reloadRoutingRules();
    expect(reloaded.lastReloadError).toBeUndefined();
    expect(Date.parse(reloaded.loadedAt)).toBeGreaterThanOrEqual(Date.parse(before.loadedAt));
  });

  it('needs the API token', async () => {
    const response = await fetch(`${stack.apiUrl}/api/routing-rules`);
    expect(response.status).toBe(401);
  });
});

describe('npm run demo -- routing', () => {
  it('plays a call a rule rejects, against the running stack, and reports it', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin/demo.ts', 'routing'], {
      cwd: projectRoot(),
      env: {
        PATH: process.env.PATH,
        HANDOFF_URL: stack.webhookUrl,
        HANDOFF_API_URL: stack.apiUrl,
        SIMULATOR_URL: stack.sim.url,
        HANDOFF_API_TOKEN: stack.apiToken,
        DEMO_TIMEOUT_MS: '45000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.resume();
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code, stdout).toBe(0);
    const line = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    expect(line).toMatchObject({
      status: 'completed',
      scenario: 'routing',
      outcome: 'rejected',
      rulesVersion: 'e2e-1',
    });
    // What the demo reports is what the rules decided.
    const routedCall = await stack.client.workflow.getHandle(line.routeWorkflowId).result();
    expect(routedCall).toMatchObject({ rule: 'blocked', action: 'reject', workflowId: line.workflowId });
    expect(graphRequests(line.callId, 'reject').map((request) => request.body.reason)).toEqual(['forbidden']);
  });
});
