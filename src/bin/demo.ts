/**
 * `npm run demo -- [scenario …]`: plays one of Handoff's call flows against a running `npm start`
 * (the simulator stands in for Graph), through the same HTTP API other services use, and ends each
 * scenario with one JSON line. Exit code 0 only when every scenario asked for completed.
 *
 *   npm run demo                      the seed's P2P transfer (p2p-transfer)
 *   npm run demo -- invite            one scenario
 *   npm run demo -- invite move       several, concurrently (one JSON line each)
 *   npm run demo -- --all             every scenario, concurrently (not routing: see below)
 *   npm run demo -- routing           a call routed by examples/routing-rules.yaml (start Handoff
 *                                     with HANDOFF_ROUTING_RULES=examples/routing-rules.yaml)
 *   npm run demo -- --list            the scenarios
 *   npm run demo -- place-call        a ringing P2P call for you to transfer: prints only its id
 *   npm run demo -- place-call --answered   the same, answered by another system (alreadyAnswered)
 *
 * Environment: HANDOFF_URL (the webhook, default http://127.0.0.1:3978), HANDOFF_API_URL (the HTTP
 * API's own listener, default http://127.0.0.1:3979), SIMULATOR_URL (default http://127.0.0.1:4010), HANDOFF_API_TOKEN when
 * the API needs one, DEMO_TIMEOUT_MS per scenario, DEMO_WAIT_MS how long to wait for a stack that
 * is still starting (default 30 s).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { seedMeetingTarget } from '../config/env.js';
import type { ChatInfo, IdentitySet } from '../graph/index.js';
import type { SimulatedCall } from '../simulator/index.js';
import type { BotCallStatus } from '../webhook/routes/calls-api.js';
import type { TransferStatus } from '../webhook/routes/transfers.js';
import type {
  CallRequest,
  InviteRequest,
  MoveParticipantRequest,
  OperationOutcome,
  TransferIntoCallRequest,
} from '../workflows/bot-call/types.js';

const handoffUrl = (process.env.HANDOFF_URL ?? 'http://127.0.0.1:3978').replace(/\/+$/, '');
const simulatorUrl = (process.env.SIMULATOR_URL ?? 'http://127.0.0.1:4010').replace(/\/+$/, '');
const apiUrl = (process.env.HANDOFF_API_URL ?? 'http://127.0.0.1:3979').replace(/\/+$/, '');
const apiToken = process.env.HANDOFF_API_TOKEN?.trim() || undefined;
const timeoutMs = Number(process.env.DEMO_TIMEOUT_MS ?? 120_000);
const waitMs = Number(process.env.DEMO_WAIT_MS ?? 30_000);

// The parties of the seeds: the caller of seeds 000/001, the users and numbers of seeds 003/004.
const caller: IdentitySet = {
  user: { id: '8a34a46b-3d17-4adc-8dce-dc4e7d572698', displayName: 'Test User' },
};
const john: IdentitySet = { user: { id: '112f7296-5fa4-42ca-bae8-6a692b15d4b8', displayName: 'John' } };
const user1: IdentitySet = { user: { id: '98da8a1a-1b87-452c-a713-65d3f10b5555', displayName: 'user1' } };
const user2: IdentitySet = { user: { id: 'bf5aae9a-d11d-47a8-93b1-782504c95555', displayName: 'user2' } };
const phone: IdentitySet = { phone: { id: '+12345678901' } };
const bob: IdentitySet = {
  user: {
    id: '5810cede-f3cc-42eb-b2c1-e9bd5d53ec96',
    tenantId: 'aa67bd4c-8475-432d-bd41-39f255720e0a',
    displayName: 'Bob',
  },
};
// Create call, example 9.
const channelChat: ChatInfo = {
  '@odata.type': '#microsoft.graph.chatInfo',
  threadId: '19:cbee7c1c860e465f8258e3cebf7bee0d@thread.skype',
  messageId: '1533758867081',
};
const seedMeeting = (() => {
  if (seedMeetingTarget.kind !== 'meeting') throw new Error('the seed meeting target should be a meeting');
  return { chatInfo: seedMeetingTarget.chatInfo, organizer: seedMeetingTarget.organizer };
})();

/** What a scenario reports besides its status: the ids that matter. */
type Report = Record<string, string | number | boolean | null>;

interface Scenario {
  name: string;
  description: string;
  run(step: (line: string) => void): Promise<Report>;
}

/** A scenario's expectation was not met: the JSON line says failed, with this reason. */
class DemoCheckFailed extends Error {}

function check(condition: unknown, why: string): asserts condition {
  if (!condition) throw new DemoCheckFailed(why);
}

// ---------------------------------------------------------------------------------------------
// HTTP

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the demo prints and checks what the API answers.
  body: any;
}

async function send(method: string, url: string, body?: unknown, token?: string): Promise<Answer> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: keep the text for the message.
  }
  return { status: response.status, body: parsed };
}

/** Sends a request to Handoff's API or the simulator's admin API; anything but `expected` throws. */
async function expectAnswer(
  method: string,
  url: string,
  body: unknown,
  expected: number,
  token?: string,
): Promise<Answer['body']> {
  const answer = await send(method, url, body, token);
  if (answer.status !== expected) {
    throw new Error(`${method} ${url} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

const handoff = {
  post: (path: string, body: unknown, expected: number) =>
    expectAnswer('POST', `${apiUrl}${path}`, body, expected, apiToken),
  get: (path: string) => expectAnswer('GET', `${apiUrl}${path}`, undefined, 200, apiToken),
};

const simulator = {
  post: (path: string, body: unknown, expected = 201) =>
    expectAnswer('POST', `${simulatorUrl}/_simulator${path}`, body, expected),
  get: (path: string) => expectAnswer('GET', `${simulatorUrl}/_simulator${path}`, undefined, 200),
};

/** The call as the simulator holds it now (GET /_simulator/calls). */
async function simulatedCall(callId: string): Promise<SimulatedCall | undefined> {
  const { value } = (await simulator.get('/calls')) as { value: SimulatedCall[] };
  return value.find((call) => call.id.toLowerCase() === callId.toLowerCase());
}

/** Polls `probe` every 100 ms until it returns something, within the scenario's time. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new DemoCheckFailed(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// Bot calls

interface HeldCall {
  workflowId: string;
  callId: string;
  uiUrl: string | null;
}

const botCallPath = (workflowId: string) => `/api/bot-calls/${encodeURIComponent(workflowId)}`;

async function botCallStatus(workflowId: string): Promise<BotCallStatus> {
  return (await handoff.get(botCallPath(workflowId))) as BotCallStatus;
}

function describeBotCall(view: BotCallStatus): string {
  const roster = (view.snapshot?.roster ?? [])
    .map((party) => `${party.id.slice(0, 8)}${party.inLobby ? ' (lobby)' : party.joined ? '' : ' (invited)'}`)
    .join(', ');
  return `${view.phase ?? view.status}${view.snapshot?.callId ? ` | call ${view.snapshot.callId}` : ''}${roster ? ` | roster: ${roster}` : ''}`;
}

/** Waits until the bot call is in `phase` (printing each change), or fails if it ends first. */
async function untilPhase(
  workflowId: string,
  phase: string,
  step: (line: string) => void,
): Promise<BotCallStatus> {
  let last = '';
  return waitFor(`${workflowId} to be ${phase}`, async () => {
    const view = await botCallStatus(workflowId);
    const line = describeBotCall(view);
    if (line !== last) step(`  ${line}`);
    last = line;
    if (view.snapshot?.phase === phase) return view;
    if (view.status !== 'RUNNING') {
      throw new DemoCheckFailed(
        `${workflowId} ended (${view.status}) before it was ${phase}: ${view.result?.reason ?? view.failure?.message ?? 'no reason given'}`,
      );
    }
    return undefined;
  });
}

/** POST /api/bot-calls, then waits until the call is established (or, for a guest, in `phase`). */
async function startBotCall(
  request: CallRequest,
  step: (line: string) => void,
  phase = 'established',
): Promise<HeldCall> {
  const started = await handoff.post('/api/bot-calls', { request }, 201);
  step(`bot call ${started.workflowId} started (${request.kind})`);
  const view = await untilPhase(started.workflowId, phase, step);
  check(view.snapshot?.callId, `${started.workflowId} is ${phase} but has no call id`);
  return { workflowId: started.workflowId, callId: view.snapshot.callId, uiUrl: started.uiUrl ?? null };
}

/** POST …/hang-up, then waits for the workflow to end with outcome `ended`. */
async function hangUp(call: HeldCall, step: (line: string) => void): Promise<BotCallStatus> {
  await handoff.post(`${botCallPath(call.workflowId)}/hang-up`, undefined, 202);
  step(`hanging up ${call.callId}`);
  const ended = await waitFor(`${call.workflowId} to end`, async () => {
    const view = await botCallStatus(call.workflowId);
    return view.status === 'RUNNING' ? undefined : view;
  });
  check(
    ended.status === 'COMPLETED' && ended.result?.outcome === 'ended',
    `${call.workflowId} did not end cleanly: ${ended.status} ${JSON.stringify(ended.result ?? ended.failure)}`,
  );
  step(`  ended${ended.result?.terminationReason ? ` (${ended.result.terminationReason})` : ''}`);
  return ended;
}

/**
 * Holds the calls `requests` ask for while `use` runs, and hangs every one of them up afterwards,
 * also when `use` failed: a demo leaves no call behind.
 */
async function withBotCalls(
  requests: Array<{ request: CallRequest; phase?: string }>,
  step: (line: string) => void,
  use: (calls: HeldCall[]) => Promise<Report>,
): Promise<Report> {
  const held: HeldCall[] = [];
  try {
    for (const { request, phase } of requests) held.push(await startBotCall(request, step, phase));
    const report = await use(held);
    while (held.length > 0) {
      await hangUp(held[0]!, step);
      held.shift();
    }
    return report;
  } finally {
    // Only when something failed: best effort, the failure is what the JSON line reports.
    for (const call of held) {
      await send('POST', `${apiUrl}${botCallPath(call.workflowId)}/hang-up`, undefined, apiToken).catch(
        () => undefined,
      );
    }
  }
}

type OperationRoute = 'invitations' | 'transfers' | 'moves';

/** An operation on a held call: 200 with an outcome whose status is completed, every invitee joined. */
async function operate(
  call: HeldCall,
  route: OperationRoute,
  body: InviteRequest | TransferIntoCallRequest | MoveParticipantRequest,
  step: (line: string) => void,
): Promise<OperationOutcome> {
  step(`POST ${botCallPath(call.workflowId)}/${route}`);
  const outcome = (await handoff.post(
    `${botCallPath(call.workflowId)}/${route}`,
    body,
    200,
  )) as OperationOutcome;
  const joined = outcome.invitees.filter((invitee) => invitee.joined).length;
  step(
    `  operation ${outcome.operationId ?? '?'}: ${outcome.status}, ${joined}/${outcome.invitees.length} joined`,
  );
  check(
    outcome.status === 'completed',
    `the ${route} operation ${outcome.status}: ${outcome.reason ?? outcome.resultInfo?.message ?? ''}`,
  );
  check(joined === outcome.invitees.length, `only ${joined} of ${outcome.invitees.length} invitees joined`);
  return outcome;
}

/** Plays the create-call examples that only need the call up: established, then hung up. */
function createAndHangUp(
  request: CallRequest,
  verify?: (call: HeldCall) => Promise<Report>,
): Scenario['run'] {
  return (step) =>
    withBotCalls([{ request }], step, async ([call]) => {
      const extra = verify ? await verify(call!) : {};
      return { workflowId: call!.workflowId, callId: call!.callId, ...extra, uiUrl: call!.uiUrl };
    });
}

// ---------------------------------------------------------------------------------------------
// Transfers (the transfers API) and the other system that answered a call

function describeTransfer(view: TransferStatus): string {
  const calls = (view.snapshot?.calls ?? []).map((call) => `${call.callId}=${call.state ?? '?'}`).join(', ');
  return `${view.snapshot?.phase ?? view.phase ?? view.status} | calls: ${calls || 'none yet'} | notifications: ${view.snapshot?.notificationsSeen ?? 0}`;
}

/** Follows a transfer workflow to its end and reports it as the seed demo always has. */
async function followTransfer(
  workflowId: string,
  p2pCallId: string,
  step: (line: string) => void,
): Promise<Report> {
  let last = '';
  const view = await waitFor(`transfer ${workflowId} to finish`, async () => {
    const answer = await send(
      'GET',
      `${apiUrl}/api/transfers/${encodeURIComponent(workflowId)}`,
      undefined,
      apiToken,
    );
    if (answer.status === 404) return undefined; // the webhook has not started it yet
    if (answer.status !== 200) throw new Error(`GET transfer ${workflowId} answered ${answer.status}`);
    const transfer = answer.body as TransferStatus;
    // A closed workflow answers no query: its last step was already printed from the snapshot.
    if (transfer.snapshot) {
      const line = describeTransfer(transfer);
      if (line !== last) step(`  ${line}`);
      last = line;
    }
    return transfer.status === 'RUNNING' ? undefined : transfer;
  });
  if (view.failure) step(`transfer failed: ${view.failure.message}`);
  const status = view.status.toLowerCase();
  check(
    status === 'completed',
    `transfer ${workflowId} ${status}: ${view.failure?.message ?? view.result?.reason ?? ''}`,
  );
  return {
    workflowId,
    p2pCallId,
    groupCallId: view.result?.groupCallId ?? null,
    operationId: view.result?.inviteOperationId ?? null,
    uiUrl: view.uiUrl ?? null,
  };
}

/**
 * Stands in for another system that answered a call: Graph posts that call's notifications here,
 * never to Handoff. Counts them, so the demo can show where they went.
 */
async function withOtherSystem<T>(
  use: (callbackUri: string, received: () => number) => Promise<T>,
): Promise<T> {
  let received = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received += 1;
      response.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await use(`http://127.0.0.1:${port}/api/calls`, () => received);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A P2P call between `caller` and the bot that another system answered and holds (simulator admin API). */
async function callAnsweredElsewhere(callbackUri: string, step: (line: string) => void): Promise<string> {
  const { callId } = await simulator.post('/answered-calls', { callbackUri, caller });
  step(`P2P call ${callId} from ${caller.user?.displayName} answered by another system (${callbackUri})`);
  return callId;
}

// ---------------------------------------------------------------------------------------------
// Incoming calls redirected or rejected without being answered (issue 11.3)

/**
 * Rings the bot with an incoming call whose notification another system receives (so that a
 * configured HANDOFF_DEFAULT_TARGET does not answer it first), then asks Handoff to redirect or
 * reject it and follows GET /api/incoming-calls/:callId to the outcome.
 */
async function incomingCallAction(
  verb: 'redirect' | 'reject',
  body: unknown,
  expected: string,
  step: (line: string) => void,
): Promise<Report> {
  return withOtherSystem(async (botUrl) => {
    const { callId } = (await simulator.post('/incoming-calls', { botUrl, caller })) as { callId: string };
    step(`incoming call ${callId} from ${caller.user?.displayName}, not answered: ${verb}`);
    const path = `/api/incoming-calls/${encodeURIComponent(callId)}`;
    const { workflowId, uiUrl } = await handoff.post(`${path}/${verb}`, body, 201);
    const result = await waitFor(`the ${verb} of ${callId} to finish`, async () => {
      const view = (await handoff.get(path)) as {
        status: string;
        result?: { outcome: string; reason?: string };
      };
      return view.status === 'RUNNING' ? undefined : view;
    });
    const outcome = result.result?.outcome;
    step(`  ${workflowId}: ${result.status}, outcome ${outcome ?? 'none'}`);
    if (outcome !== expected) {
      throw new DemoCheckFailed(
        `${workflowId} ended ${outcome ?? result.status}, not ${expected}: ${result.result?.reason ?? 'no reason given'}`,
      );
    }
    return { workflowId, callId, outcome, uiUrl: uiUrl ?? null };
  });
}

/**
 * Rings the bot with an incoming call whose notification another system receives, then asks
 * Handoff to answer and transfer it with Graph's call: transfer (issue 11.1-2), and follows
 * GET /api/incoming-calls/:callId/transfer to the outcome.
 */
async function nativeTransferAction(body: unknown, step: (line: string) => void): Promise<Report> {
  return withOtherSystem(async (botUrl) => {
    const { callId } = (await simulator.post('/incoming-calls', { botUrl, caller })) as { callId: string };
    step(`incoming call ${callId} from ${caller.user?.displayName}: answer and call: transfer`);
    const path = `/api/incoming-calls/${encodeURIComponent(callId)}/transfer`;
    const { workflowId, uiUrl } = await handoff.post(path, body, 201);
    const result = await waitFor(`the transfer of ${callId} to finish`, async () => {
      const view = (await handoff.get(path)) as {
        status: string;
        result?: { outcome: string; reason?: string; consultationCallId?: string };
      };
      return view.status === 'RUNNING' ? undefined : view;
    });
    const outcome = result.result?.outcome;
    step(`  ${workflowId}: ${result.status}, outcome ${outcome ?? 'none'}`);
    if (outcome !== 'transferred') {
      throw new DemoCheckFailed(
        `${workflowId} ended ${outcome ?? result.status}, not transferred: ${result.result?.reason ?? 'no reason given'}`,
      );
    }
    const consultationCallId = result.result?.consultationCallId;
    if (consultationCallId) step(`  consultation call ${consultationCallId} replaced by the transfer`);
    return {
      workflowId,
      callId,
      outcome,
      ...(consultationCallId ? { consultationCallId } : {}),
      uiUrl: uiUrl ?? null,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The scenarios

const appHostedBlob =
  '<Media Session Configuration Blob of the bot media stack: {"mpUri":"net.tcp://bot.contoso.com:14460/MediaProcessor","audioRenderContexts":["14778cc4-f54c-43c7-989f-9092e34ef784"]}>';

const scenarios: Scenario[] = [
  {
    name: 'redirect',
    description: 'an incoming call redirected to user1 without being answered (call: redirect)',
    run: (step) =>
      incomingCallAction('redirect', { targets: [{ identity: user1 }], timeout: 30 }, 'redirected', step),
  },
  {
    name: 'reject',
    description: 'an incoming call rejected as busy without being answered (call: reject)',
    run: (step) => incomingCallAction('reject', { reason: 'busy' }, 'rejected', step),
  },
  {
    name: 'blind-transfer',
    description: 'an incoming call answered and handed to user1 with call: transfer (blind)',
    run: (step) => nativeTransferAction({ mode: 'blind', target: { identity: user1 } }, step),
  },
  {
    name: 'consultative-transfer',
    description:
      'an incoming call answered, user1 consulted on a second call, then call: transfer with replacesCallId',
    run: (step) => nativeTransferAction({ mode: 'consultative', target: { identity: user1 } }, step),
  },
  {
    name: 'p2p-transfer',
    description:
      "the seed's incoming P2P call, answered and transferred into a new group call (seeds 000, 001)",
    async run(step) {
      step(
        `placing the seed's incoming P2P call to ${handoffUrl}/api/calls through the simulator at ${simulatorUrl}`,
      );
      const { callId } = await simulator.post('/incoming-calls', {
        botUrl: `${handoffUrl}/api/calls`,
        caller,
      });
      const workflowId = `transfer-${callId}`;
      step(`incoming call ${callId}: following workflow ${workflowId}`);
      return followTransfer(workflowId, callId, step);
    },
  },
  {
    name: 'answered-elsewhere',
    description:
      'a P2P call answered by another system, transferred by reading it instead of hearing from it (issue 5, item 5)',
    run: (step) =>
      withOtherSystem(async (callbackUri, received) => {
        const callId = await callAnsweredElsewhere(callbackUri, step);
        const { workflowId } = await handoff.post(
          '/api/transfers',
          { callId, invitee: caller, target: seedMeetingTarget, alreadyAnswered: true },
          201,
        );
        step(`transfer ${workflowId} started with alreadyAnswered`);
        const report = await followTransfer(workflowId, callId, step);
        return { ...report, notificationsToOtherSystem: received() };
      }),
  },
  {
    name: 'invite',
    description:
      'join the seed meeting without media, invite two users and a PSTN number (participant invite, examples 1, 2, 4)',
    run: (step) =>
      withBotCalls(
        [{ request: { kind: 'meeting', ...seedMeeting, media: { kind: 'none' } } }],
        step,
        async ([call]) => {
          const outcome = await operate(
            call!,
            'invitations',
            { participants: [{ identity: user1 }, { identity: user2 }, { identity: phone }] },
            step,
          );
          return {
            workflowId: call!.workflowId,
            callId: call!.callId,
            operationId: outcome.operationId ?? null,
            joined: outcome.invitees.length,
            uiUrl: call!.uiUrl,
          };
        },
      ),
  },
  {
    name: 'transfer-existing',
    description:
      'a P2P call held by another system, transferred into a group call the bot holds (participant invite, example 3)',
    run: (step) =>
      withOtherSystem((callbackUri) =>
        withBotCalls(
          [
            {
              request: {
                // Two targets: with one, Graph makes a P2P call, which takes no invites.
                kind: 'groupCall',
                targets: [john, user1],
                media: { kind: 'serviceHosted' },
                subject: 'Transfer target',
              },
            },
          ],
          step,
          async ([call]) => {
            const p2pCallId = await callAnsweredElsewhere(callbackUri, step);
            const outcome = await operate(
              call!,
              'transfers',
              { participant: { identity: caller }, replacesCallId: p2pCallId },
              step,
            );
            check(outcome.replacedCallEnded === true, `the replaced call ${p2pCallId} is not reported gone`);
            return {
              workflowId: call!.workflowId,
              callId: call!.callId,
              replacedCallId: p2pCallId,
              operationId: outcome.operationId ?? null,
              uiUrl: call!.uiUrl,
            };
          },
        ),
      ),
  },
  {
    name: 'move',
    description:
      'two meetings the bot joined; one participant moved from the first to the second (participant invite, example 5)',
    async run(step) {
      // A meeting of its own with one attendee, so that concurrent runs never move each other's.
      const joinMeetingId = String(100_000_000 + Math.floor(Math.random() * 900_000_000));
      const attendee: IdentitySet = { user: { id: randomUUID(), displayName: 'Moving attendee' } };
      await simulator.post('/meetings', { joinMeetingId, participants: [attendee] });
      step(`meeting ${joinMeetingId} registered in the simulator with one attendee`);
      return withBotCalls(
        [
          { request: { kind: 'joinMeetingId', joinMeetingId, media: { kind: 'none' } } },
          { request: { kind: 'meeting', ...seedMeeting, media: { kind: 'none' } } },
        ],
        step,
        async ([source, target]) => {
          const sameParty = (identity: IdentitySet) => identity.user?.id?.toLowerCase() === attendee.user?.id;
          const inSource = await waitFor('the attendee in the source meeting roster', async () => {
            const view = await botCallStatus(source!.workflowId);
            return view.snapshot?.roster.find(
              (party) => sameParty(party.identity) && party.joined && !party.removed,
            );
          });
          const outcome = await operate(
            target!,
            'moves',
            { participantId: inSource.id, identity: attendee, replacesCallId: source!.callId },
            step,
          );
          // The workflow's roster remembers who was ever seen; Graph's (the simulator's) is the call now.
          const sourceNow = await simulatedCall(source!.callId);
          check(
            !sourceNow?.participants.some((participant) => sameParty(participant.info.identity)),
            `the attendee is still in the source meeting ${source!.callId}`,
          );
          step('  the attendee left the source meeting');
          return {
            workflowId: target!.workflowId,
            callId: target!.callId,
            sourceWorkflowId: source!.workflowId,
            sourceCallId: source!.callId,
            participantId: inSource.id,
            operationId: outcome.operationId ?? null,
            uiUrl: target!.uiUrl,
          };
        },
      );
    },
  },
  {
    name: 'p2p-outgoing',
    description: 'an outgoing P2P VoIP call with service-hosted media (create call, example 1)',
    run: createAndHangUp({
      kind: 'p2p',
      target: john,
      media: { kind: 'serviceHosted' },
      modalities: ['audio'],
    }),
  },
  {
    name: 'p2p-app-hosted',
    description:
      'an outgoing P2P VoIP call with app-hosted media, its blob passed through untouched (create call, example 2)',
    run: createAndHangUp(
      { kind: 'p2p', target: john, media: { kind: 'appHosted', blob: appHostedBlob } },
      async (call) => {
        const held = await simulatedCall(call.callId);
        check(
          held?.mediaConfig && 'blob' in held.mediaConfig && held.mediaConfig.blob === appHostedBlob,
          `Graph did not receive the media blob untouched`,
        );
        return { blobUntouched: true };
      },
    ),
  },
  {
    name: 'group-call',
    description: 'a group call with two VoIP users and service-hosted media (create call, example 3)',
    run: createAndHangUp(
      {
        kind: 'groupCall',
        targets: [user1, user2],
        media: { kind: 'serviceHosted' },
        subject: 'Handoff demo',
      },
      async (call) => {
        const roster = await waitFor('both users in the roster', async () => {
          const view = await botCallStatus(call.workflowId);
          const joined = (view.snapshot?.roster ?? []).filter(
            (party) =>
              party.joined && [user1, user2].some((user) => user.user?.id === party.identity.user?.id),
          );
          return joined.length === 2 ? joined : undefined;
        });
        return { joined: roster.length };
      },
    ),
  },
  {
    name: 'join-meeting',
    description:
      'join a scheduled meeting by organizer and chatInfo, with prompts to prefetch (create call, example 5)',
    run: createAndHangUp({
      kind: 'meeting',
      ...seedMeeting,
      media: { kind: 'serviceHosted', preFetchMedia: [{ uri: 'https://cdn.contoso.com/beep.wav' }] },
    }),
  },
  {
    name: 'join-meeting-id',
    description: 'join a scheduled meeting by joinMeetingId and passcode (create call, example 6)',
    run: createAndHangUp({
      kind: 'joinMeetingId',
      joinMeetingId: '1234567',
      passcode: 'psw123',
      media: { kind: 'serviceHosted' },
    }),
  },
  {
    name: 'channel-meeting',
    description: 'join a channel meeting with service-hosted media (create call, example 9)',
    run: createAndHangUp({
      kind: 'meeting',
      chatInfo: channelChat,
      organizer: bob,
      media: { kind: 'serviceHosted' },
    }),
  },
  {
    name: 'guest-lobby',
    description:
      'join a channel meeting as a guest, wait in the lobby, get admitted (create call, example 10)',
    async run(step) {
      const request: CallRequest = {
        kind: 'meeting',
        chatInfo: channelChat,
        organizer: bob,
        media: { kind: 'serviceHosted' },
        guest: { id: randomUUID(), displayName: 'Guest User' },
      };
      const held = await startBotCall(request, step, 'inLobby');
      try {
        // Somebody in the meeting notices the guest after a moment and admits it.
        await sleep(1_000);
        await simulator.post(`/calls/${encodeURIComponent(held.callId)}/admit`, undefined, 204);
        step('admitted from the lobby (simulator admin API)');
        await untilPhase(held.workflowId, 'established', step);
      } catch (error) {
        await send('POST', `${apiUrl}${botCallPath(held.workflowId)}/hang-up`, undefined, apiToken).catch(
          () => undefined,
        );
        throw error;
      }
      const ended = await hangUp(held, step);
      check(
        ended.result?.admittedFromLobby === true,
        'the result does not say the bot was admitted from the lobby',
      );
      return { workflowId: held.workflowId, callId: held.callId, admittedFromLobby: true, uiUrl: held.uiUrl };
    },
  },
  {
    name: 'pstn-call',
    description: 'an outgoing PSTN call from an application instance (create call, example 11)',
    run: createAndHangUp({
      kind: 'pstn',
      phoneNumber: '+12345678901',
      applicationInstance: { id: '3d913abb-aec0-4964-8fa6-3c6850c4f278', displayName: 'Calling Bot' },
      media: { kind: 'serviceHosted' },
    }),
  },
];

/**
 * Scenarios that need Handoff started with a routing rule file (docs/routing.md): played when named,
 * not by `--all`, which runs against the default `npm start`.
 */
const routingScenarios: Scenario[] = [
  {
    name: 'routing',
    description:
      'needs HANDOFF_ROUTING_RULES=examples/routing-rules.yaml: a call from a blocked prefix, rejected by rule blocked-prefix without being answered',
    async run(step) {
      const rules = await send('GET', `${apiUrl}/api/routing-rules`, undefined, apiToken);
      check(
        rules.status === 200,
        `GET /api/routing-rules answered ${rules.status}: start Handoff with HANDOFF_ROUTING_RULES=examples/routing-rules.yaml (docs/routing.md)`,
      );
      const { version, rules: ruleList } = rules.body as { version?: string; rules: Array<{ name: string }> };
      step(`rules in force (version ${version ?? 'none'}): ${ruleList.map((rule) => rule.name).join(', ')}`);
      const blocked: IdentitySet = { phone: { id: '+99555010099' } };
      const { callId } = (await simulator.post('/incoming-calls', {
        botUrl: `${handoffUrl}/api/calls`,
        caller: blocked,
      })) as { callId: string };
      step(`incoming call ${callId} from ${blocked.phone?.id}: routed by the rules`);
      const path = `/api/incoming-calls/${encodeURIComponent(callId)}`;
      const result = await waitFor(`the routed call ${callId} to be rejected`, async () => {
        const view = await send('GET', `${apiUrl}${path}`, undefined, apiToken);
        const body = view.body as { status?: string; result?: { outcome: string } };
        return view.status === 200 && body.status !== 'RUNNING' ? body : undefined;
      });
      const outcome = result.result?.outcome;
      step(
        `  incoming-${callId}: ${result.status}, outcome ${outcome ?? 'none'}; the decision: workflow route-${callId}`,
      );
      check(outcome === 'rejected', `incoming-${callId} ended ${outcome ?? result.status}, not rejected`);
      return {
        workflowId: `incoming-${callId}`,
        routeWorkflowId: `route-${callId}`,
        callId,
        outcome,
        rulesVersion: version ?? null,
      };
    },
  },
];

const DEFAULT_SCENARIO = 'p2p-transfer';

// ---------------------------------------------------------------------------------------------
// Waiting for the stack, placing a call for the user

/** What one probe of a URL found: an HTTP status, or why nothing answered. */
async function probe(url: string): Promise<{ status: number } | { unreachable: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer().catch(() => undefined);
    return { status: response.status };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { unreachable: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}

/**
 * Waits up to DEMO_WAIT_MS for Handoff to be ready and the simulator to answer: `npm start` may
 * still be starting. Gives up with the URL it tried and what to do.
 */
async function waitForStack(): Promise<void> {
  const checks = [
    { url: `${handoffUrl}/readyz`, what: 'Handoff', setting: 'HANDOFF_URL' },
    { url: `${simulatorUrl}/_simulator/settings`, what: 'the Graph simulator', setting: 'SIMULATOR_URL' },
  ];
  const deadline = Date.now() + waitMs;
  let announced = false;
  for (const { url, what, setting } of checks) {
    for (;;) {
      const found = await probe(url);
      if ('status' in found && found.status === 200) break;
      if (Date.now() >= deadline) {
        const why = 'status' in found ? `answered ${found.status}` : `did not answer (${found.unreachable})`;
        throw new StackUnavailable(
          `${what} at ${url} ${why} within ${Math.round(waitMs / 1000)} s. Start Handoff with \`npm start\` in another terminal first, and run the demo once it prints "ready" (or set ${setting} to where it runs).`,
        );
      }
      if (!announced) {
        console.error(`waiting up to ${Math.round(waitMs / 1000)} s for ${what} at ${url} …`);
        announced = true;
      }
      await sleep(500);
    }
  }
}

/** Nothing to demo against: the message says which URL and what to run. */
class StackUnavailable extends Error {}

/**
 * `place-call`: a P2P call from the seeds' caller to the bot, its notifications going to the
 * simulator's stand-in for another system (so Handoff's incoming-call policy does not take it).
 * Ringing by default (transfer it with POST /api/transfers), or answered by that other system
 * (`--answered`: transfer it with "alreadyAnswered": true, or into a call with replacesCallId).
 */
async function placeCall(answered: boolean): Promise<string> {
  const otherSystem = `${simulatorUrl}/_simulator/other-system`;
  const { callId } = answered
    ? await simulator.post('/answered-calls', { callbackUri: otherSystem, caller })
    : await simulator.post('/incoming-calls', { botUrl: otherSystem, caller });
  return callId as string;
}

// ---------------------------------------------------------------------------------------------
// Command line

function listing(): string {
  const width = Math.max(...scenarios.map((scenario) => scenario.name.length));
  return [...scenarios, ...routingScenarios]
    .map((scenario) => `  ${scenario.name.padEnd(width)}  ${scenario.description}`)
    .join('\n');
}

/** Runs one scenario; its JSON line is printed last. Never throws. */
async function play(scenario: Scenario, prefix: boolean): Promise<boolean> {
  const step = (line: string) => console.log(prefix ? `[${scenario.name}] ${line}` : line);
  let line: Record<string, unknown>;
  try {
    const report = await scenario.run(step);
    line = { status: 'completed', scenario: scenario.name, ...report };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (!(error instanceof DemoCheckFailed)) {
      step(`demo failed: ${reason}`);
      step('is Handoff running? start it with `npm start` in another terminal');
    }
    line = { status: 'failed', scenario: scenario.name, reason };
  }
  console.log(JSON.stringify(line));
  return line.status === 'completed';
}

const USAGE = `npm run demo -- [--all | scenario …] (default ${DEFAULT_SCENARIO})
npm run --silent demo -- place-call [--answered]   places a P2P call to transfer, prints its id`;

/** The numeric settings, checked before anything is sent: a typo names the variable. */
function checkSettings(): void {
  for (const [name, value] of [
    ['DEMO_TIMEOUT_MS', timeoutMs],
    ['DEMO_WAIT_MS', waitMs],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) {
      throw new StackUnavailable(`${name} must be a number of milliseconds, got ${process.env[name]}`);
    }
  }
}

async function main(args: string[]): Promise<number> {
  if (args.includes('--list') || args.includes('--help')) {
    console.log(`${USAGE}\n${listing()}`);
    return 0;
  }
  checkSettings();
  if (args[0] === 'place-call') {
    const extra = args.slice(1).filter((arg) => arg !== '--answered');
    if (extra.length > 0) {
      console.error(`place-call takes only --answered, got ${extra.join(' ')}\n${USAGE}`);
      return 2;
    }
    await waitForStack();
    // Only the id on stdout, so that CALL_ID=$(npm run --silent demo -- place-call) works.
    console.log(await placeCall(args.includes('--answered')));
    return 0;
  }
  const names = args.includes('--all')
    ? scenarios.map((scenario) => scenario.name)
    : args.length > 0
      ? args
      : [DEFAULT_SCENARIO];
  const known = [...scenarios, ...routingScenarios];
  const unknown = names.filter((name) => !known.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(', ')}; the scenarios are:\n${listing()}`);
    return 2;
  }
  const chosen = known.filter((scenario) => names.includes(scenario.name));
  await waitForStack();
  const results = await Promise.all(chosen.map((scenario) => play(scenario, chosen.length > 1)));
  return results.every(Boolean) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof StackUnavailable) {
      console.error(error.message);
      process.exit(1);
    }
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
