/**
 * "0 notifications lost" (issue 13.2): every 202 a webhook gave Graph for a workflow's callback must
 * have put a `graphNotifications` signal into that workflow's history. The webhook answers 202 only
 * after Temporal accepted the signal, so a history with fewer such signals than 202s means a
 * notification Graph considers delivered never reached its workflow (and Graph will not send it
 * again). More signals than 202s is fine: a webhook killed after Temporal took the signal never
 * answered, and Graph's retry was signalled again (the workflow ignores the copy).
 */
import { eventTypeName, type HistoryEvent } from '../../test/support/handoff-stack.js';

/** The signal the webhook sends (src/workflows/definitions.ts, `graphNotificationsSignal`). */
export const NOTIFICATIONS_SIGNAL = 'graphNotifications';

export interface LostNotifications {
  workflowId: string;
  /** 202s the webhooks gave for it. */
  acknowledged: number;
  /** `graphNotifications` signals in its history (every run). */
  signalled: number;
}

/** `graphNotifications` signals in one history. */
export function countNotificationSignals(events: readonly HistoryEvent[]): number {
  let count = 0;
  for (const event of events) {
    if (
      eventTypeName(event) === 'WorkflowExecutionSignaled' &&
      event.workflowExecutionSignaledEventAttributes?.signalName === NOTIFICATIONS_SIGNAL
    )
      count += 1;
  }
  return count;
}

/**
 * Workflows that got fewer signals than 202s. `signalled` lists what the histories hold; a workflow
 * the webhooks acknowledged but whose history is missing counts as 0 signals.
 */
export function findLostNotifications(
  acknowledged: ReadonlyMap<string, number>,
  signalled: ReadonlyMap<string, number>,
): LostNotifications[] {
  const lost: LostNotifications[] = [];
  for (const [workflowId, count] of acknowledged) {
    const inHistory = signalled.get(workflowId) ?? 0;
    if (inHistory < count) lost.push({ workflowId, acknowledged: count, signalled: inHistory });
  }
  return lost.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
}
