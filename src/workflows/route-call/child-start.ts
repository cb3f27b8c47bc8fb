/**
 * What `routeCall` starts for the chosen action: the workflow type, its usual id, its input and
 * the search attributes the UI shows. Pure and deterministic: the callback URLs were signed by the
 * webhook (`input.starts`), the targets resolved from the rule file's names (`input.targets`).
 */
import type { SearchAttributePair } from '@temporalio/common';
// identity-set.ts, which imports nothing at run time: graph/index.js also exports the Graph client
// (node:crypto), and identity.ts the zod schemas; neither belongs in the workflow bundle.
import { describeIdentity } from '../../graph/identity-set.js';
import type { InvitationParticipantInfo } from '../../graph/index.js';
import { HandoffFlow, HandoffTransferState } from '../../temporal/search-attributes.js';
import { transferWorkflowId } from '../definitions.js';
import {
  INCOMING_CALL_WORKFLOW_TYPE,
  type IncomingCallInput,
  incomingCallWorkflowId,
} from '../incoming-call/definitions.js';
import {
  NATIVE_TRANSFER_WORKFLOW_TYPE,
  type NativeTransferInput,
  nativeTransferWorkflowId,
} from '../native-transfer/definitions.js';
import type { TransferInput, TransferTarget } from '../transfer/types.js';
import type { RouteAction, RouteCallInput } from './definitions.js';

/** The transfer workflow's type (src/webhook/transfer-start.ts names it for the webhook). */
const TRANSFER_WORKFLOW_TYPE = 'transferCall';

export interface ChildStart {
  workflowType: string;
  workflowId: string;
  input: TransferInput | IncomingCallInput | NativeTransferInput;
  searchAttributes: SearchAttributePair[];
  summary: string;
}

function transferTargetOf(input: RouteCallInput, name: string): TransferTarget {
  const target = input.targets[name];
  // The webhook and the hook's answer were checked against the same targets: this is a bug.
  if (target?.kind !== 'transfer') throw new Error(`target ${name} is not a transfer target`);
  return target.transfer;
}

function participantOf(input: RouteCallInput, name: string): InvitationParticipantInfo {
  const target = input.targets[name];
  if (target?.kind !== 'participant') throw new Error(`target ${name} is not a party`);
  return target.participant;
}

/** `route` is the HandoffRoute label (`<rule>:<action>`): nativeTransfer's input carries it too. */
export function childStartOf(input: RouteCallInput, action: RouteAction, route: string): ChildStart {
  const { callId } = input;
  switch (action.kind) {
    case 'transfer':
      return {
        workflowType: TRANSFER_WORKFLOW_TYPE,
        workflowId: transferWorkflowId(callId),
        input: { ...input.starts.transfer, target: transferTargetOf(input, action.target) },
        searchAttributes: [
          { key: HandoffFlow, value: 'p2p-to-group' },
          { key: HandoffTransferState, value: 'answering' },
        ],
        summary: `Transfer P2P call ${callId} to target ${action.target} (route ${route})`,
      };
    case 'blindTransfer': {
      const target = participantOf(input, action.target);
      return {
        workflowType: NATIVE_TRANSFER_WORKFLOW_TYPE,
        workflowId: nativeTransferWorkflowId(callId),
        input: {
          ...input.starts.nativeTransfer,
          mode: { kind: 'blind', target },
          route,
        },
        searchAttributes: [{ key: HandoffFlow, value: 'blindTransfer' }],
        summary: `Blind transfer of call ${callId} to ${describeIdentity(target.identity)} (route ${route})`,
      };
    }
    case 'redirect': {
      const targets = action.targets.map((name) => participantOf(input, name));
      return {
        workflowType: INCOMING_CALL_WORKFLOW_TYPE,
        workflowId: incomingCallWorkflowId(callId),
        input: {
          ...input.starts.incomingCall,
          action: {
            kind: 'redirect',
            targets,
            ...(action.timeoutSeconds !== undefined ? { timeoutSeconds: action.timeoutSeconds } : {}),
            ...(action.maskCallee !== undefined ? { maskCallee: action.maskCallee } : {}),
            ...(action.maskCaller !== undefined ? { maskCaller: action.maskCaller } : {}),
          },
        },
        searchAttributes: [
          { key: HandoffFlow, value: 'redirect' },
          { key: HandoffTransferState, value: 'redirecting' },
        ],
        summary: `Redirect incoming call ${callId} to ${action.targets.join(', ')}, not answered (route ${route})`,
      };
    }
    case 'reject':
      return {
        workflowType: INCOMING_CALL_WORKFLOW_TYPE,
        workflowId: incomingCallWorkflowId(callId),
        input: { ...input.starts.incomingCall, action: { kind: 'reject', reason: action.reason ?? 'none' } },
        searchAttributes: [
          { key: HandoffFlow, value: 'reject' },
          { key: HandoffTransferState, value: 'rejecting' },
        ],
        summary: `Reject incoming call ${callId} (${action.reason ?? 'none'}), not answered (route ${route})`,
      };
  }
}
