/**
 * What the worker kills and the missing notifications did to the transfers, read from their
 * Temporal histories: work a killed worker held (activity attempts and workflow tasks that timed
 * out) and waits that ended by reading Graph instead of a notification.
 */
import {
  activityTypeOf,
  eventTypeName,
  type HistoryEvent,
  localActivityOf,
} from '../../test/support/handoff-stack.js';

export interface HistoryFallout {
  histories: number;
  /** Activity attempts that timed out, by activity type: the worker died while running them. */
  activityTimeouts: Record<string, number>;
  workflowTaskTimeouts: number;
  /** Transfers with at least one timed-out activity or workflow task. */
  transfersHit: number;
  /** Reads of a call or operation: a wait that timed out, or a request whose outcome was unknown. */
  graphReads: number;
  /** Answer, createCall or invite sent again after an attempt that did not succeed. */
  resends: Record<string, number>;
}

const sideEffects = new Set(['answerCall', 'createCall', 'inviteParticipants']);

export function summarizeHistories(histories: ReadonlyArray<readonly HistoryEvent[]>): HistoryFallout {
  const fallout: HistoryFallout = {
    histories: histories.length,
    activityTimeouts: {},
    workflowTaskTimeouts: 0,
    transfersHit: 0,
    graphReads: 0,
    resends: {},
  };
  for (const events of histories) {
    const list = [...events];
    let hit = false;
    const scheduled: Record<string, number> = {};
    for (const event of list) {
      const type = eventTypeName(event);
      if (type === 'WorkflowTaskTimedOut') {
        fallout.workflowTaskTimeouts += 1;
        hit = true;
      }
      // A local activity (the answer under patch `local-answer`) is one marker: an attempt, and a
      // timeout when it failed with one. A worker killed while it ran leaves no marker at all: the
      // workflow task timed out (counted above) and the next worker ran it again.
      const local = type === 'MarkerRecorded' ? localActivityOf(event) : undefined;
      if (local) {
        if (local.timedOut) {
          fallout.activityTimeouts[local.activityType] =
            (fallout.activityTimeouts[local.activityType] ?? 0) + 1;
          hit = true;
        }
        if (sideEffects.has(local.activityType)) {
          scheduled[local.activityType] = (scheduled[local.activityType] ?? 0) + 1;
          if ((scheduled[local.activityType] ?? 0) > 1)
            fallout.resends[local.activityType] = (fallout.resends[local.activityType] ?? 0) + 1;
        }
        continue;
      }
      const activity = activityTypeOf(list, event);
      if (!activity) continue;
      if (type === 'ActivityTaskTimedOut') {
        fallout.activityTimeouts[activity] = (fallout.activityTimeouts[activity] ?? 0) + 1;
        hit = true;
      }
      if (type === 'ActivityTaskScheduled') {
        if (activity === 'getCall' || activity === 'getOperation') fallout.graphReads += 1;
        if (sideEffects.has(activity)) {
          scheduled[activity] = (scheduled[activity] ?? 0) + 1;
          if ((scheduled[activity] ?? 0) > 1)
            fallout.resends[activity] = (fallout.resends[activity] ?? 0) + 1;
        }
      }
    }
    if (hit) fallout.transfersHit += 1;
  }
  return fallout;
}
