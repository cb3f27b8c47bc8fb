/**
 * Stray calls get an owner (issue 10.4, docs/call-ownership.md). A notification for an
 * establishing or established call that reaches a workflow that has finished (or never existed)
 * means Graph holds a call of ours nobody keeps alive or will ever hang up: a twin group call
 * created by a lost create-call response whose notifications came after the transfer closed, say.
 * Acknowledging and dropping it would leave it open. Instead the webhook starts a `strayCall`
 * workflow for it, keyed by the call id (one owner per call, however many notifications report
 * it, and none again once it is done), which reads the call, confirms it is ours and hangs it up.
 *
 * Temporal must take the start before the notification is acknowledged: when it cannot, the
 * error goes up and Graph gets a 503 and retries, so the stray call is not forgotten.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { GraphNotification } from '../graph/index.js';
import { HandoffCallIds, HandoffCallOwner, HandoffFlow } from '../temporal/search-attributes.js';
import {
  STRAY_CALL_WORKFLOW_TYPE,
  type StrayCallInput,
  strayCallWorkflowId,
} from '../workflows/stray-call/definitions.js';
import type { strayCall } from '../workflows/stray-call/stray-call.js';
import type { WebhookDeps } from './deps.js';
import { isWorkflowAlreadyStarted, type TemporalCaller } from './temporal-calls.js';
import { isValidWorkflowId } from './workflow-id.js';

/** Calls a notification shows live: establishing or established, not deleted. */
export function liveCallIds(notifications: readonly GraphNotification[]): string[] {
  const live = new Map<string, string>();
  const ended = new Set<string>();
  for (const notification of notifications) {
    if (notification.kind !== 'call') continue;
    const key = notification.callId.toLowerCase();
    const state = notification.call.state;
    if (notification.changeType === 'deleted' || state === 'terminating' || state === 'terminated') {
      ended.add(key);
    } else if (state === 'establishing' || state === 'established') {
      live.set(key, notification.callId);
    }
  }
  return [...live].filter(([key]) => !ended.has(key)).map(([, callId]) => callId);
}

export interface StrayCallsContext {
  deps: Pick<WebhookDeps, 'temporal' | 'taskQueue'>;
  temporalCalls: TemporalCaller;
  log: FastifyBaseLogger;
}

/**
 * Starts a `strayCall` owner for every live call among `notifications`, which arrived at
 * `callbackUri` for `addressedTo`, a workflow that is not running. Returns the owners' workflow
 * ids (started now or already started earlier).
 */
export async function ownStrayCalls(
  context: StrayCallsContext,
  addressedTo: string,
  callbackUri: string,
  notifications: readonly GraphNotification[],
): Promise<string[]> {
  const owners: string[] = [];
  for (const callId of liveCallIds(notifications)) {
    const workflowId = strayCallWorkflowId(callId);
    if (!isValidWorkflowId(workflowId)) {
      context.log.warn(
        { callId, addressedTo },
        'stray call with an id that cannot name a workflow: not owned',
      );
      continue;
    }
    const input: StrayCallInput = { callId, callbackUri, addressedTo };
    try {
      await context.temporalCalls.call(`the owner of stray call ${callId}`, () =>
        context.deps.temporal.workflow.start<typeof strayCall>(STRAY_CALL_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: context.deps.taskQueue,
          args: [input],
          // One owner per call, ever: a later notification for a call already handled starts nothing.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: HandoffCallIds, value: [callId] },
            { key: HandoffFlow, value: 'stray-call' },
            { key: HandoffCallOwner, value: STRAY_CALL_WORKFLOW_TYPE },
          ],
          staticSummary: `Hang up stray call ${callId}`,
          staticDetails: `Reported to ${addressedTo}, which has no running workflow`,
        }),
      );
      context.log.warn({ callId, addressedTo, workflowId }, 'stray call: owner started to hang it up');
    } catch (error) {
      if (!isWorkflowAlreadyStarted(error)) throw error;
    }
    owners.push(workflowId);
  }
  return owners;
}
