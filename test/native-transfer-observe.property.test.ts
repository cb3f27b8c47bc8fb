// The nativeTransfer workflow's reading of the transferred call's notifications
// (src/workflows/native-transfer/observe.ts) is order- and copy-independent and ignores hostile
// input: a transfer Graph completed is `transferred`, one that came back to `established` with a
// failure resultInfo is `failed`, whatever the order, however many copies, among notifications
// about other calls and garbage. Nothing yet, or only `transferring`, is `pending`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emptyTransferObserved,
  observeTransfer,
  type TransferVerdict,
  transferVerdict,
} from '../src/workflows/native-transfer/observe.js';

const callId = '7a1f0b00-ffff-4bc9-a43e-b226498ec22b';
const notAnswered = {
  '@odata.type': '#microsoft.graph.resultInfo',
  code: 408,
  subcode: 0,
  message: 'no answer',
};
const completed = {
  '@odata.type': '#microsoft.graph.resultInfo',
  code: 0,
  subcode: 7015,
  message: 'GracefulTransferCompleted',
};

const call = (state: string, extra: Record<string, unknown> = {}, changeType = 'updated') => ({
  kind: 'call',
  changeType,
  callId,
  resourceUrl: `/communications/calls/${callId}`,
  call: { state, ...extra },
});

/** What Graph reports after a transfer that worked ("call: transfer", v1.0, examples 1-4). */
const success = [
  call('transferring'),
  call('transferAccepted'),
  call('terminated', { terminationReason: 'Transferred', resultInfo: completed }),
  { kind: 'call', changeType: 'deleted', callId: callId.toUpperCase(), resourceUrl: '', call: {} },
];
/** …and after one that failed: back to established with the failure. */
const failure = [call('transferring'), call('established', { resultInfo: notAnswered })];

const noise = fc.constantFrom<unknown>(
  null,
  7,
  'terminated',
  [],
  { kind: 'call' },
  {
    kind: 'call',
    callId: 'another-call',
    changeType: 'updated',
    call: { state: 'established', resultInfo: notAnswered },
  },
  { kind: 'call', callId: 'another-call', changeType: 'deleted', call: { state: 'terminated' } },
  {
    kind: 'operation',
    callId,
    changeType: 'updated',
    operation: { status: 'failed', resultInfo: notAnswered },
  },
  { kind: 'call', callId: 9, call: { state: 'transferAccepted' } },
  { kind: 'call', callId, call: null, changeType: 'updated' },
  // A duplicate of the answer's own `established`: no resultInfo, no failure.
  call('established'),
  call('established', { resultInfo: { code: 'not a number' } }),
);

function verdictOf(notifications: readonly unknown[]): TransferVerdict {
  const observed = emptyTransferObserved();
  for (const notification of notifications) observeTransfer(observed, callId, notification);
  return transferVerdict(observed);
}

function shuffled<T>(items: readonly T[], keys: fc.Stream<number>): T[] {
  return items
    .map((item) => ({ item, key: keys.next().value as number }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item);
}

describe('observeTransfer (nativeTransfer)', () => {
  it('a completed transfer is transferred under any order, duplicates and noise', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(success.length - 1), { maxLength: 8 }),
        fc.array(noise, { maxLength: 8 }),
        fc.infiniteStream(fc.nat()),
        (copies, junk, order) => {
          const mixed = [...success, ...copies.map((index) => success[index]), ...junk];
          expect(verdictOf(shuffled(mixed, order))).toEqual({
            kind: 'transferred',
            resultInfo: completed,
            terminationReason: 'Transferred',
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a failed transfer is failed with its resultInfo under any order, duplicates and noise', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(failure.length - 1), { maxLength: 8 }),
        fc.array(noise, { maxLength: 8 }),
        fc.boolean(),
        fc.infiniteStream(fc.nat()),
        (copies, junk, callerHungUpAfterwards, order) => {
          // The caller may hang up after the failure: the verdict stays the failure.
          const after = callerHungUpAfterwards
            ? [call('terminated', { terminationReason: 'RemoteEnded' })]
            : [];
          const mixed = [...failure, ...copies.map((index) => failure[index]), ...after, ...junk];
          expect(verdictOf(shuffled(mixed, order))).toEqual({ kind: 'failed', resultInfo: notAnswered });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is pending while Graph has said neither end nor failure', () => {
    fc.assert(
      fc.property(fc.array(noise, { maxLength: 8 }), fc.infiniteStream(fc.nat()), (junk, order) => {
        const mixed = [call('transferring'), call('transferAccepted'), call('terminating'), ...junk];
        expect(verdictOf(shuffled(mixed, order))).toEqual({ kind: 'pending' });
      }),
      { numRuns: 200 },
    );
  });
});
