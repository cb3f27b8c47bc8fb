// A trivial workflow for proving that a Temporal server and a worker work end to end. Tests only.
import { condition, defineSignal, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
// A NodeNext `.js` specifier for a `.ts` file on purpose: proves the worker's bundler resolves it the way
// the real workflows import their modules.
import { HandoffFlow } from '../../../src/temporal/search-attributes.js';

export const pongSignal = defineSignal<[string]>('pong');

/**
 * Sleeps on a durable timer, then reports how much workflow time passed. On the time-skipping
 * server a day passes in workflow time while only milliseconds pass on the wall clock.
 */
export async function sleepThenPing(sleepMs: number): Promise<string> {
  const startedAt: number = Date.now();
  await sleep(sleepMs);
  return `ping after ${Date.now() - startedAt} ms`;
}

/** Marks itself with `HandoffFlow=ping`, waits for the `pong` signal and returns its payload. */
export async function waitForPong(): Promise<string> {
  upsertSearchAttributes([{ key: HandoffFlow, value: 'ping' }]);
  let received: string | undefined;
  setHandler(pongSignal, (value: string): void => {
    received = value;
  });
  await condition(() => received !== undefined);
  return `pong: ${received}`;
}
