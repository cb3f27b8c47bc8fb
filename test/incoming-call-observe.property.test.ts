// The incomingCall workflow's reading of its call's notifications (src/workflows/incoming-call/observe.ts)
// is order- and copy-independent and ignores hostile input: for any set of notifications, every
// shuffle with any duplicates, mixed with notifications about other calls and garbage, gives the
// same verdict (redirecting seen, ended, the end's resultInfo and terminationReason).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Observed, observe } from '../src/workflows/incoming-call/observe.js';

const callId = '491f0b00-ffff-4bc9-a43e-b226498ec22a';
const failed = {
  '@odata.type': '#microsoft.graph.resultInfo',
  code: 408,
  subcode: 0,
  message: 'nobody answered',
};

/** Graph's notifications about the call; every terminated copy says the same, as Graph's do. */
const ofTheCall = (withResult: boolean) => [
  { kind: 'call', changeType: 'updated', callId, resourceUrl: '', call: { state: 'redirecting' } },
  {
    kind: 'call',
    changeType: 'updated',
    callId: callId.toUpperCase(),
    resourceUrl: '',
    call: {
      state: 'terminated',
      terminationReason: 'Redirected',
      ...(withResult ? { resultInfo: failed } : {}),
    },
  },
  { kind: 'call', changeType: 'deleted', callId, resourceUrl: '', call: {} },
];

const noise = fc.constantFrom<unknown>(
  null,
  42,
  'terminated',
  [],
  { kind: 'call' },
  { kind: 'call', callId: 'another-call', changeType: 'deleted', call: { state: 'terminated' } },
  { kind: 'operation', callId, changeType: 'deleted', operation: { status: 'failed' } },
  { kind: 'call', callId: 7, call: { state: 'redirecting' } },
  { kind: 'call', callId, call: null, changeType: 'updated' },
  { kind: 'participants', callId, participants: [] },
);

function verdict(notifications: readonly unknown[]): Observed {
  const observed: Observed = { redirecting: false };
  for (const notification of notifications) observe(observed, callId, notification);
  return observed;
}

describe('observe (incomingCall)', () => {
  it('gives the same verdict under any order, duplicates and noise', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.subarray([0, 1, 2]),
        fc.array(fc.nat(2), { maxLength: 6 }),
        fc.array(noise, { maxLength: 6 }),
        fc.infiniteStream(fc.nat()),
        (withResult, kept, copies, junk, order) => {
          const real = ofTheCall(withResult);
          const chosen = kept.map((index) => real[index]);
          const expected = verdict(chosen);
          const mixed: unknown[] = [
            ...chosen,
            ...copies.filter((index) => kept.includes(index)).map((index) => real[index]),
            ...junk,
          ];
          const keys = mixed.map(() => order.next().value as number);
          const shuffled = mixed
            .map((item, index) => ({ item, key: keys[index] ?? 0 }))
            .sort((a, b) => a.key - b.key);
          expect(verdict(shuffled.map(({ item }) => item))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('records the end with the resultInfo and terminationReason Graph gave, and ignores garbage', () => {
    expect(verdict(ofTheCall(true))).toEqual({
      redirecting: true,
      ended: { resultInfo: failed, terminationReason: 'Redirected' },
    });
    expect(verdict([ofTheCall(false)[2]])).toEqual({ redirecting: false, ended: {} });
    expect(
      verdict([
        {
          kind: 'call',
          callId,
          changeType: 'updated',
          call: { state: 'terminated', resultInfo: { code: 'x' } },
        },
      ]),
    ).toEqual({ redirecting: false, ended: {} });
    expect(verdict([null, 'x', { kind: 'call', callId: 'other', call: { state: 'redirecting' } }])).toEqual({
      redirecting: false,
    });
  });
});
