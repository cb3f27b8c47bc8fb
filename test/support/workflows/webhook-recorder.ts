// A stand-in for the real `transferCall` workflow, registered under the same name, for webhook tests:
// it makes no Graph requests, records every notification delivery the webhook signals, and answers the
// `transferState` query in the real shape. Tests only.
import { ApplicationFailure, condition, defineQuery, setHandler } from '@temporalio/workflow';
import {
  graphNotificationsSignal,
  type NotificationDelivery,
  transferStateQuery,
} from '../../../src/workflows/definitions.js';
import {
  TRANSFER_FAILED,
  type TransferInput,
  type TransferResult,
  type TransferSnapshot,
} from '../../../src/workflows/transfer/types.js';

/** Every delivery the workflow received, in order, duplicates included. */
export const recordedDeliveriesQuery = defineQuery<NotificationDelivery[]>('recordedDeliveries');
/** The input the webhook started the workflow with. */
export const recordedInputQuery = defineQuery<TransferInput>('recordedInput');

/** A target subject that makes the stand-in fail at once, like a transfer that cannot complete. */
export const FAIL_AT_ONCE_SUBJECT = 'fail at once';

/**
 * Runs until Graph reports its P2P call deleted (then completes), until cancelled, or fails at once when
 * the target's subject is FAIL_AT_ONCE_SUBJECT.
 */
export async function transferCall(input: TransferInput): Promise<TransferResult> {
  const deliveries: NotificationDelivery[] = [];
  const result: TransferResult = {
    outcome: 'completed',
    p2pCallId: input.p2pCallId,
    inviteeSeenInRoster: false,
    orphanedCallsHungUp: [],
    timings: { startedAt: Date.now() },
  };
  setHandler(graphNotificationsSignal, (delivery) => {
    deliveries.push(delivery);
  });
  setHandler(recordedDeliveriesQuery, () => deliveries);
  setHandler(recordedInputQuery, () => input);
  setHandler(
    transferStateQuery,
    (): TransferSnapshot => ({
      phase: 'answering',
      result,
      calls: [],
      operations: [],
      notificationsSeen: deliveries.reduce((count, delivery) => count + delivery.notifications.length, 0),
    }),
  );

  if (input.target.subject === FAIL_AT_ONCE_SUBJECT) {
    const failed: TransferResult = { ...result, outcome: 'failed', reason: 'asked to fail' };
    throw ApplicationFailure.create({
      message: 'the stand-in transfer was asked to fail',
      type: TRANSFER_FAILED,
      nonRetryable: true,
      details: [failed],
    });
  }

  const p2pCallDeleted = () =>
    deliveries.some((delivery) =>
      delivery.notifications.some(
        (notification) =>
          notification.kind === 'call' &&
          notification.changeType === 'deleted' &&
          notification.callId === input.p2pCallId,
      ),
    );
  await condition(p2pCallDeleted);
  result.timings.finishedAt = Date.now();
  return result;
}
