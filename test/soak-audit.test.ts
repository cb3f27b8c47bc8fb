// The soak's call-ownership audit (bench/soak/audit.ts, issue 10): calls left open with no running
// owner, keep-alives that lapsed, P2P calls left silent after a failed transfer.
import { describe, expect, it } from 'vitest';
import {
  type DuplicateSideEffect,
  findCallsWithoutOwner,
  findLapsedKeepAlives,
  findSilentCallers,
  isCompensatedTwin,
  type TransferOutcome,
} from '../bench/soak/audit.js';
import type { RequestRecord, SimulatedCall } from '../src/simulator/index.js';

const base = 'http://127.0.0.1:3978/api/calls';

function call(id: string, fields: Partial<SimulatedCall>): SimulatedCall {
  return {
    id,
    kind: 'group',
    state: 'established',
    deleted: false,
    callbackUri: `${base}/transfer-${id}/key`,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    ...fields,
  } as SimulatedCall;
}

describe('duplicate create-calls forced by lost responses', () => {
  const duplicate = (createdCallIds: string[]): DuplicateSideEffect => ({
    workflowId: 'transfer-x',
    kind: 'createCall',
    succeeded: createdCallIds.length,
    at: createdCallIds.map(() => new Date('2026-01-01T00:00:00Z')),
    createdCallIds,
  });
  const kept = { workflowId: 'transfer-x', result: { groupCallId: 'kept' } } as unknown as TransferOutcome;

  it('are compensated once every twin but the group call the transfer kept has ended', () => {
    const calls = [call('kept', {}), call('twin', { deleted: true })];
    expect(isCompensatedTwin(duplicate(['kept', 'twin']), calls, kept)).toBe(true);
    expect(
      isCompensatedTwin(
        duplicate(['kept', 'twin']),
        [call('kept', {}), call('twin', { state: 'terminated' })],
        kept,
      ),
    ).toBe(true);
  });

  it('are a fault while a twin is still live, for other side effects, or with no twin at all', () => {
    expect(isCompensatedTwin(duplicate(['kept', 'twin']), [call('kept', {}), call('twin', {})], kept)).toBe(
      false,
    );
    expect(isCompensatedTwin({ ...duplicate(['kept', 'twin']), kind: 'invite' }, [], kept)).toBe(false);
    expect(isCompensatedTwin(duplicate(['kept']), [call('kept', {})], kept)).toBe(false);
    expect(isCompensatedTwin(duplicate(['kept', 'unknown']), [call('kept', {})], kept)).toBe(false);
  });
});

describe('the call-ownership audit', () => {
  it('finds live calls whose callback names a workflow that is not running', () => {
    const calls = [
      call('a', { callbackUri: `${base}/transfer-owned/key` }),
      call('b', { callbackUri: `${base}/transfer-finished/key` }),
      call('c', { callbackUri: `${base}/transfer-finished/key`, deleted: true }),
      call('d', { callbackUri: `${base}/transfer-finished/key`, state: 'terminated' }),
    ];
    expect(findCallsWithoutOwner(calls, new Set(['transfer-owned'])).map((found) => found.callId)).toEqual([
      'b',
    ]);
  });

  it('finds calls that went longer than the lapse without an accepted keepAlive while they were ours', () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
    const keepAlive = (id: string, minute: number, status = 200): RequestRecord =>
      ({
        method: 'POST',
        path: `/v1.0/communications/calls/${id}/keepAlive`,
        status,
        at: at(minute),
      }) as RequestRecord;
    const hangUp = (id: string, minute: number): RequestRecord =>
      ({
        method: 'DELETE',
        path: `/v1.0/communications/calls/${id}`,
        status: 204,
        at: at(minute),
      }) as RequestRecord;
    const calls = [
      call('kept', {}),
      call('stopped', {}),
      call('refused', {}),
      call('hung-up', { deleted: true }),
    ];
    const requests = [
      keepAlive('kept', 20),
      keepAlive('kept', 40),
      keepAlive('stopped', 20),
      keepAlive('refused', 20, 403),
      keepAlive('refused', 40, 403),
      hangUp('hung-up', 30),
    ];
    const found = findLapsedKeepAlives(calls, requests, at(55), 30 * 60 * 1000);
    expect(found.map((item) => item.callId)).toEqual(['stopped', 'refused']);
    expect(found[0]?.why).toMatch(/2100 s without an accepted keepAlive/);
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
