/**
 * The messages the `botCall` workflow accepts and answers. Shared by workflow code and by clients
 * (the HTTP API, the demo, other services): only @temporalio/workflow's define* helpers, which
 * are safe to import outside a workflow. Graph notifications arrive as `graphNotificationsSignal`
 * (definitions.ts), like for every Handoff workflow.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  BotCallSnapshot,
  InviteRequest,
  MoveParticipantRequest,
  OperationOutcome,
  TransferIntoCallRequest,
  TransferParticipantRequest,
} from './types.js';

/** The workflow type the worker registers (src/workflows/index.ts). */
export const BOT_CALL_WORKFLOW_TYPE = 'botCall';

/** The ApplicationFailure type of a bot call that could not be set up (not established, not admitted, refused by Graph). */
export const BOT_CALL_FAILED = 'BotCallFailed';

/** The ApplicationFailure type of a start refused before any Graph request: the input names the problem. */
export const INVALID_BOT_CALL_REQUEST = 'InvalidBotCallRequest';

/** Workflow ids say what they are (design.md, "Inspecting and replaying"): `call-<id>`, the starter picks `<id>`. */
export function botCallWorkflowId(id: string): string {
  return `call-${id}`;
}

/** Invite 1 to 5 parties (seed 003, examples 1, 2, 4). Refused by its validator before anything is sent. */
export const inviteParticipantsUpdate = defineUpdate<OperationOutcome, [InviteRequest]>('inviteParticipants');

/** Move the other party of a P2P call into this call with `replacesCallId` (seed 003, example 3). */
export const transferIntoCallUpdate = defineUpdate<OperationOutcome, [TransferIntoCallRequest]>(
  'transferIntoCall',
);

/** Move one participant from another meeting of the same application into this call (seed 003, example 5). */
export const moveParticipantUpdate = defineUpdate<OperationOutcome, [MoveParticipantRequest]>(
  'moveParticipant',
);

/**
 * Blind transfer of one participant out of this group call with Graph's `call: transfer`
 * (`transferTarget` + `transferee`, issue 11.1). Completed once Graph reports `transferAccepted`;
 * failed when the call comes back to `established` with a failure resultInfo.
 */
export const transferParticipantUpdate = defineUpdate<OperationOutcome, [TransferParticipantRequest]>(
  'transferParticipant',
);

/** Hang up the call (DELETE); the workflow then ends with outcome `ended`. */
export const hangUpSignal = defineSignal<[]>('hangUp');

export const botCallStateQuery = defineQuery<BotCallSnapshot>('botCallState');
