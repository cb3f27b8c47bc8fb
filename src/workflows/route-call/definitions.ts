/**
 * The `routeCall` workflow's type, id, input and result (issue 11.4-5): the owner of an incoming
 * call while a routing rule's decision is made and handed on. The webhook matches the rules
 * (src/routing) and starts this workflow with the decision; an `ask` rule's decision hook is asked
 * from inside it (an activity with a deadline). It then starts the chosen flow's workflow under its
 * usual id (`transfer-<callId>`, `incoming-<callId>`, `native-transfer-<callId>`) as a child that
 * outlives it (ParentClosePolicy ABANDON). Types only: safe outside a workflow.
 */
import type { IdentitySet, InvitationParticipantInfo, RejectReason } from '../../graph/index.js';
import type { IncomingCallInput } from '../incoming-call/definitions.js';
import type { NativeTransferInput } from '../native-transfer/definitions.js';
import type { TransferInput, TransferTarget } from '../transfer/types.js';

export const ROUTE_CALL_WORKFLOW_TYPE = 'routeCall';

/** One per incoming call: a duplicate or late incoming notification finds it and routes nothing twice. */
export function routeCallWorkflowId(callId: string): string {
  return `route-${callId}`;
}

/**
 * A target defined once in the rule file, by name: a meeting or new group call the call is
 * transferred into (`transfer`), or a party a call is handed to (`blindTransfer`, `redirect`).
 */
export type NamedTarget =
  | { kind: 'transfer'; transfer: TransferTarget }
  | { kind: 'participant'; participant: InvitationParticipantInfo };

/** What a rule (or the decision hook) decides; targets are named, resolved by the workflow. */
export type RouteAction =
  | { kind: 'transfer'; target: string }
  | { kind: 'blindTransfer'; target: string }
  | {
      kind: 'redirect';
      targets: string[];
      timeoutSeconds?: number;
      maskCallee?: boolean;
      maskCaller?: boolean;
    }
  | { kind: 'reject'; reason?: RejectReason };

export type RouteActionKind = RouteAction['kind'];

/** What the webhook knew of the call when it matched the rules: also what the decision hook is sent. */
export interface CallFacts {
  callId: string;
  /** The caller's identity kind (`user`, `phone`, `guest`, …) and id, from `source.identity`. */
  caller: { kind?: string; id?: string; displayName?: string; tenantId?: string };
  /** Whom the caller called: the ids in the call's `targets` (the bot, an application instance, a number). */
  called: string[];
  /** The call's tenant (`tenantId` of the call), when the notification carries it. */
  tenantId?: string;
  /** When the incoming notification reached the webhook (ISO 8601). */
  receivedAt: string;
}

/** An `ask` rule: the hook is POSTed the facts, may answer within `timeoutMs`, else `fallback`. */
export interface AskDecision {
  url: string;
  timeoutMs: number;
  fallback: RouteAction;
  /**
   * Headers to send, each naming the environment variable of the worker process that holds its
   * value (`{ authorization: CRM_HOOK_AUTHORIZATION }`): the secret itself is never in the rule
   * file, the decision, or the workflow history.
   */
  headers?: Record<string, string>;
}

/**
 * The decision the webhook recorded at start: the rule that matched (or `default`), why, and the
 * action, or the hook to ask. This is the first thing the history shows.
 */
export interface RouteDecision {
  rule: string;
  why: string;
  action: RouteAction | { kind: 'ask'; ask: AskDecision };
}

/** What each possible flow is started with, pre-signed by the webhook (workflows never sign URLs). */
export interface RouteStarts {
  transfer: Omit<TransferInput, 'target'>;
  incomingCall: Pick<IncomingCallInput, 'callId' | 'callbackUri'>;
  nativeTransfer: Omit<NativeTransferInput, 'mode' | 'route'>;
}

export interface RouteCallInput {
  callId: string;
  caller: IdentitySet;
  facts: CallFacts;
  decision: RouteDecision;
  /** The rule file's targets in force when the call was matched, by name. */
  targets: Record<string, NamedTarget>;
  starts: RouteStarts;
  /** The rule file's version, for the record. */
  rulesVersion?: string;
}

/** What the decision hook answered, as the activity saw it. */
export type HookOutcome =
  | { answered: true; action: RouteAction; why?: string }
  | { answered: false; why: string };

/**
 * - `started`: the chosen flow's workflow was started (`workflowId`), with the incoming call's
 *   notifications forwarded to it.
 * - `alreadyOwned`: a workflow with that id exists already (an API request acted on the call first).
 */
export interface RouteCallResult {
  callId: string;
  rule: string;
  action: RouteActionKind;
  why: string;
  /** `HandoffRoute`: `<rule>:<action>`. */
  route: string;
  workflowId: string;
  workflowType: string;
  outcome: 'started' | 'alreadyOwned';
  hook?: HookOutcome;
}

/** The value of the `HandoffRoute` search attribute: which rule, which action. */
export function routeLabel(rule: string, action: RouteActionKind | 'ask'): string {
  return `${rule}:${action}`;
}
