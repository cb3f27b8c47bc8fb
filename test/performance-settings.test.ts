// The settings issue 12 added: the worker's pollers, slots and sticky cache, and the size of the
// webhook's verified-token cache. Each is read from the environment, checked at start with an error
// naming it, and reaches what it configures: a real worker on a real dev server, and the webhook's
// verifier's options (test/verified-token-cache.test.ts shows what the cache does with them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDepsFor } from '../src/app/webhook.js';
import { ConfigError, DEFAULT_WORKER_TUNING, loadConfig } from '../src/config/env.js';
import {
  type HandoffTestStack,
  startHandoffTestStack,
  startTestTemporal,
  type TestTemporal,
} from './support/handoff-stack.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('worker tuning settings', () => {
  it('default to the tuning docs/performance.md measured', () => {
    const config = loadConfig({});
    expect(config.worker).toEqual(DEFAULT_WORKER_TUNING);
    expect(config.notifications.tokenCacheSize).toBe(1000);
  });

  it('are read from HANDOFF_WORKER_* and NOTIFICATION_TOKEN_CACHE_SIZE', () => {
    const config = loadConfig({
      HANDOFF_WORKER_WORKFLOW_TASK_SLOTS: '64',
      HANDOFF_WORKER_ACTIVITY_TASK_SLOTS: '32',
      HANDOFF_WORKER_WORKFLOW_TASK_POLLERS: '16',
      HANDOFF_WORKER_ACTIVITY_TASK_POLLERS: '4',
      HANDOFF_WORKER_NON_STICKY_POLL_RATIO: '0.5',
      HANDOFF_WORKER_STICKY_CACHE_SIZE: '0',
      NOTIFICATION_TOKEN_CACHE_SIZE: '0',
    });
    expect(config.worker).toEqual({
      workflowTaskSlots: 64,
      activityTaskSlots: 32,
      workflowTaskPollers: 16,
      activityTaskPollers: 4,
      nonStickyPollRatio: 0.5,
      stickyCacheSize: 0,
    });
    expect(config.notifications.tokenCacheSize).toBe(0);
  });

  it('refuse bad values with an error naming the variable', () => {
    expect(problemsOf({ HANDOFF_WORKER_WORKFLOW_TASK_SLOTS: 'many' })).toEqual([
      expect.stringContaining('HANDOFF_WORKER_WORKFLOW_TASK_SLOTS must be a whole number from 2'),
    ]);
    expect(problemsOf({ HANDOFF_WORKER_ACTIVITY_TASK_SLOTS: '0' })).toEqual([
      expect.stringContaining('HANDOFF_WORKER_ACTIVITY_TASK_SLOTS must be a whole number from 1'),
    ]);
    expect(
      problemsOf({ HANDOFF_WORKER_WORKFLOW_TASK_SLOTS: '8', HANDOFF_WORKER_WORKFLOW_TASK_POLLERS: '9' }),
    ).toEqual([
      'HANDOFF_WORKER_WORKFLOW_TASK_POLLERS (9) must not exceed HANDOFF_WORKER_WORKFLOW_TASK_SLOTS (8)',
    ]);
    expect(
      problemsOf({ HANDOFF_WORKER_ACTIVITY_TASK_SLOTS: '2', HANDOFF_WORKER_ACTIVITY_TASK_POLLERS: '3' }),
    ).toEqual([
      'HANDOFF_WORKER_ACTIVITY_TASK_POLLERS (3) must not exceed HANDOFF_WORKER_ACTIVITY_TASK_SLOTS (2)',
    ]);
    for (const ratio of ['0', '1.5', 'half', '-0.5']) {
      expect(problemsOf({ HANDOFF_WORKER_NON_STICKY_POLL_RATIO: ratio })).toEqual([
        expect.stringContaining(
          'HANDOFF_WORKER_NON_STICKY_POLL_RATIO must be a number above 0 and at most 1',
        ),
      ]);
    }
    expect(problemsOf({ HANDOFF_WORKER_STICKY_CACHE_SIZE: '-1' })).toEqual([
      expect.stringContaining('HANDOFF_WORKER_STICKY_CACHE_SIZE must be a whole number'),
    ]);
    expect(problemsOf({ NOTIFICATION_TOKEN_CACHE_SIZE: '1e3' })).toEqual([
      expect.stringContaining('NOTIFICATION_TOKEN_CACHE_SIZE must be a whole number from 0'),
    ]);
  });

  it('lowers the pollers to the slots when only the slots are given', () => {
    expect(loadConfig({ HANDOFF_WORKER_WORKFLOW_TASK_SLOTS: '4' }).worker.workflowTaskPollers).toBe(4);
  });
});

describe('the settings reach the worker and the webhook', () => {
  let temporal: TestTemporal;
  let stack: HandoffTestStack;

  beforeAll(async () => {
    temporal = await startTestTemporal();
    stack = await startHandoffTestStack({
      temporal,
      env: {
        HANDOFF_WORKER_WORKFLOW_TASK_SLOTS: '24',
        HANDOFF_WORKER_ACTIVITY_TASK_SLOTS: '12',
        HANDOFF_WORKER_WORKFLOW_TASK_POLLERS: '6',
        HANDOFF_WORKER_ACTIVITY_TASK_POLLERS: '3',
        HANDOFF_WORKER_NON_STICKY_POLL_RATIO: '0.5',
        HANDOFF_WORKER_STICKY_CACHE_SIZE: '7',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await temporal?.stop();
  });

  it('a worker polls and runs with the configured pollers, slots and sticky cache', async () => {
    expect(stack.worker?.options).toMatchObject({
      tuner: {
        workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 24 },
        activityTaskSlotSupplier: { type: 'fixed-size', numSlots: 12 },
      },
      maxCachedWorkflows: 7,
      nonStickyToStickyPollRatio: 0.5,
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 6 },
      activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 3 },
    });
    // …and still runs a transfer to its end with them.
    const { handle } = await stack.placeCall();
    const result = await handle.result();
    expect(result.outcome).toBe('completed');
  }, 120_000);

  it('NOTIFICATION_TOKEN_CACHE_SIZE reaches the webhook verifier options', () => {
    for (const size of ['0', '250']) {
      const { notifications } = loadConfig({ NOTIFICATION_TOKEN_CACHE_SIZE: size });
      const deps = webhookDepsFor({ ...stack.config, notifications }, stack.client, { simulator: stack.sim });
      expect(deps.notificationAuth.tokenCacheSize).toBe(Number(size));
    }
  });
});
