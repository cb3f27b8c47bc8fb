/**
 * What an `incomingCall` workflow learns from its call's notifications (issue 11.3): flags that
 * only ever turn on, so duplicates and reordering change nothing. Pure and defensive: a signal's
 * payload comes from the network, so anything malformed or about another call is ignored.
 * No imports from @temporalio/workflow: tests use it directly.
 */
import type { ResultInfo } from '../../graph/index.js';

export interface CallEnd {
  resultInfo?: ResultInfo;
  terminationReason?: string;
}

/** What the call's notifications told: flags that only ever turn on, so order and copies do not matter. */
export interface Observed {
  redirecting: boolean;
  ended?: CallEnd;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}

/** A ResultInfo worth keeping: a number code, at most. Anything else a notification says is dropped. */
function resultInfoOf(value: unknown): ResultInfo | undefined {
  if (!isObject(value) || typeof value.code !== 'number') return undefined;
  return value as ResultInfo;
}

/**
 * Applies one notification about `callId` (pure; hostile input changes nothing): `redirecting`
 * turns the flag on; `terminated` or a `deleted` call records the end, keeping the first
 * resultInfo and terminationReason any copy carried.
 */
export function observe(observed: Observed, callId: string, notification: unknown): void {
  if (!isObject(notification) || notification.kind !== 'call') return;
  if (typeof notification.callId !== 'string' || notification.callId.toLowerCase() !== callId.toLowerCase())
    return;
  const call = isObject(notification.call) ? notification.call : {};
  if (call.state === 'redirecting') observed.redirecting = true;
  if (call.state !== 'terminated' && notification.changeType !== 'deleted') return;
  const end: CallEnd = { ...(observed.ended ?? {}) };
  const resultInfo = resultInfoOf(call.resultInfo);
  if (resultInfo && !end.resultInfo) end.resultInfo = resultInfo;
  if (typeof call.terminationReason === 'string' && call.terminationReason && !end.terminationReason) {
    end.terminationReason = call.terminationReason;
  }
  observed.ended = end;
}
