/**
 * Handoff's workflows for direct Temporal use: type names, message definitions, workflow ids and
 * the input and result types. Only the define* helpers of @temporalio/workflow are imported,
 * which are safe outside a workflow; no workflow code is loaded.
 */
import type { BotCallInput, BotCallResult } from '../workflows/bot-call/types.js';
import type { IncomingCallInput, IncomingCallResult } from '../workflows/incoming-call/definitions.js';
import type { NativeTransferInput, NativeTransferResult } from '../workflows/native-transfer/definitions.js';
import type { TransferInput, TransferResult } from '../workflows/transfer/types.js';

export {
  BOT_CALL_FAILED,
  BOT_CALL_WORKFLOW_TYPE,
  botCallStateQuery,
  botCallWorkflowId,
  hangUpSignal,
  INVALID_BOT_CALL_REQUEST,
  inviteParticipantsUpdate,
  moveParticipantUpdate,
  transferIntoCallUpdate,
  transferParticipantUpdate,
} from '../workflows/bot-call/definitions.js';
export type * from '../workflows/bot-call/types.js';
export {
  graphNotificationsSignal,
  type NotificationDelivery,
  transferStateQuery,
  transferWorkflowId,
} from '../workflows/definitions.js';
export type * from '../workflows/incoming-call/definitions.js';
export {
  INCOMING_CALL_WORKFLOW_TYPE,
  incomingCallStateQuery,
  incomingCallWorkflowId,
} from '../workflows/incoming-call/definitions.js';
export type * from '../workflows/native-transfer/definitions.js';
export {
  abandonNativeTransferUpdate,
  completeNativeTransferUpdate,
  defaultNativeTransferTimeouts,
  NATIVE_TRANSFER_WORKFLOW_TYPE,
  nativeTransferStateQuery,
  nativeTransferWorkflowId,
} from '../workflows/native-transfer/definitions.js';
export type * from '../workflows/route-call/definitions.js';
export {
  ROUTE_CALL_WORKFLOW_TYPE,
  routeCallWorkflowId,
} from '../workflows/route-call/definitions.js';
export {
  STRAY_CALL_WORKFLOW_TYPE,
  type StrayCallInput,
  type StrayCallResult,
  strayCallWorkflowId,
} from '../workflows/stray-call/definitions.js';
export type * from '../workflows/transfer/types.js';

/** The workflow type of a P2P transfer (src/workflows/transfer/transfer.ts). */
export const TRANSFER_WORKFLOW_TYPE = 'transferCall';
/**
 * The long-lived owner a transfer with `botLegAfterTransfer: 'stay'` continues as, under the same
 * workflow id (docs/call-ownership.md); `handle.result()` of such a transfer follows it.
 */
export const GROUP_CALL_OWNER_WORKFLOW_TYPE = 'groupCallOwner';
/** The ApplicationFailure type a failed transfer ends with; its first detail is the TransferResult. */
export const TRANSFER_FAILED = 'TransferFailed';

/** The transfer workflow's signature: `client.workflow.start<TransferCallWorkflow>(TRANSFER_WORKFLOW_TYPE, …)`. */
export type TransferCallWorkflow = (input: TransferInput) => Promise<TransferResult>;
/** The bot-call workflow's signature: `client.workflow.start<BotCallWorkflow>(BOT_CALL_WORKFLOW_TYPE, …)`. */
export type BotCallWorkflow = (input: BotCallInput) => Promise<BotCallResult>;

/** The incoming-call workflow's signature: redirect or reject without answering (issue 11.3). */
export type IncomingCallWorkflow = (input: IncomingCallInput) => Promise<IncomingCallResult>;

/**
 * The native-transfer workflow's signature: answer an incoming call and hand it on with Graph's
 * `call: transfer`, blind or consultative (issue 11.1-2).
 */
export type NativeTransferWorkflow = (input: NativeTransferInput) => Promise<NativeTransferResult>;

/** The task queue Handoff's workers poll unless HANDOFF_TASK_QUEUE says otherwise. */
export const DEFAULT_TASK_QUEUE = 'handoff';
