// Workflow-level property of the P2P transfer (issue 4, item 1): under any delivery Graph could
// make (per-event shuffles, notifications overtaking each other across events, duplicates, some
// notifications late, responses held back so that notifications come first), every transfer ends
// as the in-order one does: the same result, the same Graph requests, one group call, one invite.
// Runs go concurrently through one stack; see test/support/flow-properties.ts.
//
// HANDOFF_PROPERTY_SEED reproduces a failing report's conditions; `npm run test:properties` runs
// 1,000 and more.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  checkFlowProperty,
  formatFlowReport,
  inOrder,
  p2pTransferScenario,
} from './support/flow-properties.js';
import { type HandoffTestStack, sharedHandoffStack } from './support/handoff-stack.js';

const stack = sharedHandoffStack({
  // Graph retries a notification the webhook answered 503 (Temporal slow under the load of many
  // concurrent runs on 2 cores) for longer than the simulator's default three quick attempts.
  simulator: { notifications: { maxAttempts: 8, retryDelayMs: 250 } },
});

const seedText = process.env.HANDOFF_PROPERTY_SEED;
const seed = seedText ? Number(seedText) : undefined;

it('ends every transfer as the in-order one, whatever the order, duplicates, lateness and response delays', async () => {
  const report = await checkFlowProperty({
    stack,
    scenario: p2pTransferScenario,
    runs: 30,
    concurrency: 15,
    ...(seed !== undefined ? { seed } : {}),
  });
  const text = formatFlowReport(report);
  expect(report.failures, text).toEqual([]);
  expect(report.passed).toBe(30);

  // The baseline is the seed transfer, and each summary really says what it claims.
  expect(report.baseline.summary, text).toMatchObject({
    outcome: 'completed',
    failure: null,
    idsInResult: ['p2pCallId', 'groupCallId', 'inviteOperationId', 'inviteClientContext'],
    originalCallTerminationReason: 'AppInitiated',
    inviteeSeenInRoster: true,
    orphanedCallsHungUp: [],
    groupCallsCreated: 1,
    // The bot left its own leg once the caller was in (botLegAfterTransfer `leave`, the default).
    groupCallsLeft: [],
    p2pCallInGraph: 'deleted replaced by {group}',
    requests: [
      'DELETE /calls/{group} 204',
      'POST /calls 201',
      'POST /calls/{group}/participants/invite 200',
      'POST /calls/{p2p}/answer 202',
    ],
    notificationAnswers: [202],
  });

  // Not vacuous: the runs met every hazard the property is about, in many different orders.
  expect(report.distinctDeliveryOrders, text).toBeGreaterThan(10);
  expect(report.exercised.duplicates, text).toBeGreaterThan(0);
  expect(report.exercised.notificationBeforeResponse, text).toBeGreaterThan(0);
  // The answer too, a local activity (patch local-answer): its notifications came while it waited.
  expect(report.notificationBeforeResponseBy.answerCall, text).toBeGreaterThan(0);
  expect(report.exercised.orderDifferentFromBaseline, text).toBeGreaterThan(0);
  // About 20 s on a quiet 2-core machine; the margin is for a machine busy with other test files.
}, 150_000);

it('tells a different outcome apart: a run whose invite Graph refuses is reported with its differences', async () => {
  // The harness must be able to fail. A scenario that refuses every invite of its runs but not of
  // the baseline gives counterexamples that name what differs.
  let started = 0;
  const refusing = {
    ...p2pTransferScenario,
    async start(s: HandoffTestStack, key: string) {
      started += 1;
      if (started > 1) {
        s.sim.injectFault({
          method: 'POST',
          path: /\/participants\/invite$/,
          bodyContains: key,
          status: 403,
          code: 'Forbidden',
        });
      }
      return p2pTransferScenario.start(s, key);
    },
  };
  const report = await checkFlowProperty({
    stack,
    scenario: refusing,
    runs: 2,
    concurrency: 2,
    conditions: fc.constant(inOrder),
  });
  expect(report.passed).toBe(0);
  expect(report.failures).toHaveLength(2);
  const [failure] = report.failures;
  expect(failure?.differences.join('\n')).toMatch(/outcome: in order "completed", here "failed"/);
  // The failed run hung up the P2P call it answered (issue 10.3); the baseline did not.
  expect(failure?.differences.join('\n')).toMatch(/DELETE \/calls\/\{p2p\} 204/);
  expect(formatFlowReport(report)).toMatch(/counterexample: run 0/);
});
