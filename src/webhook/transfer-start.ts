/**
 * How a transfer workflow is started, whether an incoming call or the HTTP API asked for it:
 * the id derived from the call id, the callback URL naming the workflow, the search attributes
 * and the summary operators see in the Temporal UI.
 */
import type { WorkflowStartOptions } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { describeIdentity, type IdentitySet, type MediaInfo } from '../graph/index.js';
import { HandoffCallIds, HandoffFlow, HandoffTransferState } from '../temporal/search-attributes.js';
import { transferWorkflowId } from '../workflows/definitions.js';
import type { transferCall } from '../workflows/transfer/transfer.js';
import type {
  TransferInput,
  TransferPolicy,
  TransferTarget,
  TransferTimeouts,
} from '../workflows/transfer/types.js';
import { callbackUriFor } from './callback-binding.js';
import type { WebhookDeps } from './deps.js';

/** The workflow type the worker registers (src/workflows/index.ts). */
export const TRANSFER_WORKFLOW_TYPE = 'transferCall';
export type TransferWorkflow = typeof transferCall;

export interface TransferRequestFields extends TransferPolicy {
  callId: string;
  invitee: IdentitySet;
  target: TransferTarget;
  preFetchMedia?: MediaInfo[];
  timeouts?: Partial<TransferTimeouts>;
  alreadyAnswered?: boolean;
}

type StartContext = Pick<
  WebhookDeps,
  'publicBaseUrl' | 'callbackSecrets' | 'botAppId' | 'tenantId' | 'taskQueue' | 'transferPolicy'
>;

/** Every callbackUri Handoff gives Graph is built here: signed for the workflow it names. */
export { callbackUriFor };

export function transferInputFor(context: StartContext, request: TransferRequestFields): TransferInput {
  return { ...transferInputWithoutTarget(context, request), target: request.target };
}

/** A transfer's input but its target: what a routing rule's decision completes (src/webhook/route-start.ts). */
export function transferInputWithoutTarget(
  context: StartContext,
  request: Omit<TransferRequestFields, 'target'>,
): Omit<TransferInput, 'target'> {
  const workflowId = transferWorkflowId(request.callId);
  return {
    p2pCallId: request.callId,
    invitee: request.invitee,
    callbackUri: callbackUriFor(context, workflowId),
    botAppId: context.botAppId,
    ...(context.tenantId ? { tenantId: context.tenantId } : {}),
    ...(request.preFetchMedia?.length ? { preFetchMedia: request.preFetchMedia } : {}),
    ...(request.timeouts ? { timeouts: request.timeouts } : {}),
    ...(request.alreadyAnswered ? { alreadyAnswered: true } : {}),
    ...transferPolicyFor(context.transferPolicy, request),
  };
}

/** The transfer's own policy fields, else the configured ones (HANDOFF_* settings). */
function transferPolicyFor(configured: TransferPolicy | undefined, request: TransferPolicy): TransferPolicy {
  const fallbackTarget = request.fallbackTarget ?? configured?.fallbackTarget;
  const botLegAfterTransfer = request.botLegAfterTransfer ?? configured?.botLegAfterTransfer;
  const stayMaxDurationMs = request.stayMaxDurationMs ?? configured?.stayMaxDurationMs;
  const keepAliveIntervalMs = configured?.keepAliveIntervalMs;
  return {
    ...(keepAliveIntervalMs !== undefined ? { keepAliveIntervalMs } : {}),
    ...(fallbackTarget ? { fallbackTarget } : {}),
    ...(botLegAfterTransfer ? { botLegAfterTransfer } : {}),
    ...(stayMaxDurationMs !== undefined ? { stayMaxDurationMs } : {}),
  };
}

function describeTarget(target: TransferTarget): string {
  switch (target.kind) {
    case 'meeting':
      return `a group call in meeting chat ${target.chatInfo.threadId}${target.guest ? ` as guest ${target.guest.displayName}` : ''}`;
    case 'joinMeetingId':
      return `meeting ${target.joinMeetingId}`;
    case 'groupCall':
      return `a new group call with ${target.targets.length} parties`;
  }
}

/** Start options shared by signalWithStart (incoming calls) and start (the HTTP API). */
export function transferStartOptions(
  context: StartContext,
  request: TransferRequestFields,
): Omit<WorkflowStartOptions<TransferWorkflow>, 'workflowIdReusePolicy'> {
  const workflowId = transferWorkflowId(request.callId);
  const typedSearchAttributes: SearchAttributePair[] = [
    { key: HandoffCallIds, value: [request.callId] },
    { key: HandoffFlow, value: 'p2p-to-group' },
    { key: HandoffTransferState, value: 'answering' },
  ];
  return {
    workflowId,
    taskQueue: context.taskQueue,
    args: [transferInputFor(context, request)],
    typedSearchAttributes,
    staticSummary: `Transfer P2P call ${request.callId} to ${describeTarget(request.target)}`,
    staticDetails: `Caller: ${describeIdentity(request.invitee)}`,
  };
}

export function temporalUiUrlFor(
  deps: Pick<WebhookDeps, 'temporalUiUrl' | 'namespace'>,
  workflowId: string,
): string | undefined {
  if (!deps.temporalUiUrl) return undefined;
  const ui = deps.temporalUiUrl.replace(/\/+$/, '');
  return `${ui}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
