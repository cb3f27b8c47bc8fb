/**
 * What a `nativeTransfer` workflow learns about its transfer from the transferred call's
 * notifications ("call: transfer", v1.0): `transferring`, `transferAccepted`, then the call's end
 * (it left the bot), or a return to `established` with a failure `resultInfo` (the transfer
 * failed). The call-state reducer ranks these states alike (call-state.ts), so the transfer's
 * course is read here instead: flags that only ever turn on, so duplicates and reordering do not
 * change the verdict. Pure and defensive: a signal's payload comes from the network.
 * No imports from @temporalio/workflow: tests use it directly.
 */
import type { ResultInfo } from '../../graph/index.js';

export interface TransferObserved {
  transferring: boolean;
  transferAccepted: boolean;
  /** The first failure resultInfo (code >= 400) reported with a call that is still up. */
  failure?: ResultInfo;
  /** The call ended (terminated or deleted): what any copy said about why. */
  ended?: { resultInfo?: ResultInfo; terminationReason?: string };
}

export function emptyTransferObserved(): TransferObserved {
  return { transferring: false, transferAccepted: false };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}

function resultInfoOf(value: unknown): ResultInfo | undefined {
  if (!isObject(value) || typeof value.code !== 'number') return undefined;
  return value as ResultInfo;
}

export function isFailure(resultInfo: ResultInfo | undefined): boolean {
  return typeof resultInfo?.code === 'number' && resultInfo.code >= 400;
}

/**
 * Applies one notification about `callId`. Only reports that can follow a transfer request count:
 * callers apply them from the moment the transfer is sent (a failed transfer is an `established`
 * with a failure resultInfo, which nothing before the transfer reports).
 */
export function observeTransfer(observed: TransferObserved, callId: string, notification: unknown): void {
  if (!isObject(notification) || notification.kind !== 'call') return;
  if (typeof notification.callId !== 'string' || notification.callId.toLowerCase() !== callId.toLowerCase())
    return;
  const call = isObject(notification.call) ? notification.call : {};
  const resultInfo = resultInfoOf(call.resultInfo);
  if (call.state === 'transferring') observed.transferring = true;
  if (call.state === 'transferAccepted') observed.transferAccepted = true;
  if (call.state === 'terminated' || call.state === 'terminating' || notification.changeType === 'deleted') {
    const end = { ...(observed.ended ?? {}) };
    if (resultInfo && !end.resultInfo && call.state === 'terminated') end.resultInfo = resultInfo;
    if (typeof call.terminationReason === 'string' && call.terminationReason && !end.terminationReason) {
      end.terminationReason = call.terminationReason;
    }
    // `terminating` only announces the end; terminated or deleted is the end itself.
    if (call.state !== 'terminating') observed.ended = end;
    return;
  }
  if (isFailure(resultInfo) && !observed.failure) observed.failure = resultInfo;
}

export type TransferVerdict =
  | { kind: 'pending' }
  | { kind: 'transferred'; resultInfo?: ResultInfo; terminationReason?: string }
  | { kind: 'failed'; resultInfo?: ResultInfo; terminationReason?: string };

/**
 * The transfer's outcome so far. A failure resultInfo on the live call is final (Graph ended the
 * transfer attempt); an end is a transfer unless it carries a failure resultInfo itself.
 */
export function transferVerdict(observed: TransferObserved): TransferVerdict {
  if (observed.failure) return { kind: 'failed', resultInfo: observed.failure };
  if (!observed.ended) return { kind: 'pending' };
  const { resultInfo, terminationReason } = observed.ended;
  const details = {
    ...(resultInfo ? { resultInfo } : {}),
    ...(terminationReason ? { terminationReason } : {}),
  };
  return isFailure(resultInfo) ? { kind: 'failed', ...details } : { kind: 'transferred', ...details };
}
