/**
 * The "bare" workflows the bench measures Handoff against (issue 12): the same number of signals,
 * activities and starts as Handoff's, and no logic. Bundled for their own worker on their own task
 * queue; they are not Handoff workflow types (not in src/workflows, no committed histories).
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as bareActivities from './bare-activities.js';

/** The signal name and payload shape of Handoff's (src/workflows/definitions.ts), unparsed. */
export const bareNotificationsSignal = defineSignal<[unknown]>('graphNotifications');

/** Row 1: a workflow parked on its notifications, counting them. */
export async function bareParked(): Promise<void> {
  let received = 0;
  setHandler(bareNotificationsSignal, () => {
    received += 1;
  });
  // Parked until the bench's dev server goes away, like a transfer waiting for its call.
  await condition(() => received < 0);
}

export interface BareTransferInput {
  /** Where the activity posts the notifications Graph would send after each request. */
  notifyUrl: string;
  /** Where the first request (the answer) is posted, to be timed; none for row 2. */
  answerUrl?: string;
}

/**
 * Row 2: a seed transfer's shape (issue 12): three Graph requests (answer, create the group call,
 * invite), each followed by notifications, 10 signals in all, and nothing decided on them.
 */
export const bareTransferSignalsPerRequest = [3, 3, 4] as const;

const { bareGraphRequest } = proxyActivities<typeof bareActivities>({ startToCloseTimeout: '10s' });

/**
 * Rows 2 and 3. Started by signal-with-start for an incoming call (row 3), the incoming
 * notification is the first signal and counts toward the first request's notifications.
 */
export async function bareTransfer(input: BareTransferInput): Promise<number> {
  let received = 0;
  setHandler(bareNotificationsSignal, () => {
    received += 1;
  });
  let expected = 0;
  for (const [step, notifications] of bareTransferSignalsPerRequest.entries()) {
    await bareGraphRequest(input.notifyUrl, notifications, step === 0 ? input.answerUrl : undefined);
    expected += notifications;
    await condition(() => received >= expected);
  }
  return received;
}

/**
 * Row 4: parked until its first notification, then one "Graph request", timed at the bare
 * webhook, as a transfer parked for `established` sends its create-call request.
 */
export async function bareNextRequest(input: BareTransferInput): Promise<void> {
  let received = 0;
  setHandler(bareNotificationsSignal, () => {
    received += 1;
  });
  await condition(() => received > 0);
  await bareGraphRequest(input.notifyUrl, 0, input.answerUrl);
}

/** How long a parked workflow of row 5 waits for its call, as a parked transfer (`callEstablishedMs`). */
const PARKED_WAIT = '1 hour';

/** The state a notification body names (bareNotificationBody's shape), as the bare webhook forwards it. */
function notifiedState(payload: unknown): string | undefined {
  const notifications = (payload as { notifications?: unknown } | undefined)?.notifications;
  if (!Array.isArray(notifications)) return undefined;
  const resourceData = (notifications[0] as { resourceData?: { state?: unknown } } | undefined)?.resourceData;
  return typeof resourceData?.state === 'string' ? resourceData.state : undefined;
}

/**
 * Row 5: parked as row 1 parks a transfer: one "Graph request" (the answer), then a wait of an hour
 * for the call to be `established`; the notifications that say anything else change nothing.
 */
export async function bareParkedAfterRequest(input: BareTransferInput): Promise<void> {
  let state: string | undefined;
  setHandler(bareNotificationsSignal, (payload) => {
    state = notifiedState(payload) ?? state;
  });
  await bareGraphRequest(input.notifyUrl, 0);
  await condition(() => state === 'established', PARKED_WAIT);
}
