// The soak's call-ownership audit (bench/soak/audit.ts, issue 10): calls left open with no running
// owner, keep-alives that lapsed, P2P calls left silent after a failed transfer.
import { describe, expect, it } from 'vitest';
import {
  findCallsWithoutOwner,
  findLapsedKeepAlives,
  findSilentCallers,
  type TransferOutcome,
} from '../bench/soak/audit.js';
import type { SimulatedCall } from '../src/simulator/index.js';

const base = 'http://127.0.0.1:3978/api/calls';

function call(id: string, fields: Partial<SimulatedCall>): SimulatedCall {
  return {
    id,
    kind: 'group',
    state: 'established',
    deleted: false,
    callbackUri: `${base}/transfer-${id}`,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    ...fields,
  } as SimulatedCall;
}

describe('the call-ownership audit', () => {
  it('finds live calls whose callback names a workflow that is not running', () => {
    const calls = [
      call('a', { callbackUri: `${base}/transfer-owned` }),
      call('b', { callbackUri: `${base}/transfer-finished` }),
      call('c', { callbackUri: `${base}/transfer-finished`, deleted: true }),
      call('d', { callbackUri: `${base}/transfer-finished`, state: 'terminated' }),
    ];
    expect(findCallsWithoutOwner(calls, new Set(['transfer-owned'])).map((found) => found.callId)).toEqual([
      'b',
    ]);
  });

  it('finds established calls without a keepAlive for longer than the lapse', () => {
    const now = new Date('2026-01-01T01:00:00Z');
    const calls = [
      call('kept', { lastKeepAliveAt: new Date('2026-01-01T00:40:00Z') }),
      call('lapsed', { lastKeepAliveAt: new Date('2026-01-01T00:10:00Z') }),
      call('never', {}),
      call('gone', { deleted: true }),
    ];
    expect(findLapsedKeepAlives(calls, now, 45 * 60 * 1000).map((found) => found.callId)).toEqual([
      'lapsed',
      'never',
    ]);
  });

  it('finds the P2P call of a failed transfer still live, not one hung up or of a completed transfer', () => {
    const outcome = (p2pCallId: string, status: TransferOutcome['status']): TransferOutcome => ({
      workflowId: `transfer-${p2pCallId}`,
      p2pCallId,
      status,
      reason: 'invite refused',
    });
    const calls = [
      call('silent', { kind: 'p2p' }),
      call('hung-up', { kind: 'p2p', deleted: true }),
      call('moved', { kind: 'p2p' }),
    ];
    const found = findSilentCallers(calls, [
      outcome('silent', 'failed'),
      outcome('hung-up', 'failed'),
      outcome('moved', 'completed'),
    ]);
    expect(found.map((item) => item.callId)).toEqual(['silent']);
    expect(found[0]?.why).toMatch(/failed \(invite refused\)/);
  });
});
