/**
 * The shapes of Handoff's HTTP API (docs/http-api.md), for `handoff/client`. The request types
 * are what the API validates; the answers are what it sends. The workflow types they carry
 * (targets, snapshots, results, operation outcomes) are the workflows' own.
 */
import type { IdentitySet, MediaInfo, RejectReason } from '../graph/index.js';
import type { Rule } from '../routing/rule-file.js';
import type {
  BotCallResult,
  BotCallSnapshot,
  BotCallTimeouts,
  CallRequest,
  OperationOutcome,
} from '../workflows/bot-call/types.js';
import type { IncomingCallResult, IncomingCallSnapshot } from '../workflows/incoming-call/definitions.js';
import type {
  NativeTransferResult,
  NativeTransferSnapshot,
} from '../workflows/native-transfer/definitions.js';
import type { NamedTarget, RouteAction } from '../workflows/route-call/definitions.js';
import type {
  TransferResult,
  TransferSnapshot,
  TransferTarget,
  TransferTimeouts,
} from '../workflows/transfer/types.js';

/** `POST /api/transfers`: transfer the P2P call `callId` into `target`, inviting `invitee`. */
export interface StartTransferRequest {
  callId: string;
  invitee: IdentitySet;
  target: TransferTarget;
  timeouts?: Partial<TransferTimeouts>;
  preFetchMedia?: MediaInfo[];
  /** Another system answered the call: Handoff does not answer it, it reads it from Graph. */
  alreadyAnswered?: boolean;
}

/** `POST /api/incoming-calls/:callId/redirect` ("call: redirect", v1.0): ring `targets` instead of answering. */
export interface RedirectIncomingCallRequest {
  targets: Array<{ identity: IdentitySet }>;
  /** Seconds Graph rings the targets, 15-90; Graph's default when omitted. */
  timeout?: number;
  maskCallee?: boolean;
  maskCaller?: boolean;
}

/** `POST /api/incoming-calls/:callId/reject` ("call: reject", v1.0). */
export interface RejectIncomingCallRequest {
  reason?: RejectReason;
}

/**
 * `POST /api/incoming-calls/:callId/transfer` ("call: transfer", v1.0): answer the call and
 * transfer it to `target`, at once (`blind`) or after a consultation call (`consultative`).
 */
export interface NativeTransferRequest {
  mode: 'blind' | 'consultative';
  target: { identity: IdentitySet };
  /** Consultative only: complete when the target answers (default) or on `completeNativeTransfer`. */
  complete?: 'whenTargetAnswers' | 'onRequest';
  /** Consultative only: how long the target may take to answer, 1000-600000 ms (default 60000). */
  consultationTimeoutMs?: number;
  /** Consultative to a phone number: the application instance that places the consultation call. */
  applicationInstance?: { id: string; displayName?: string };
  /** The caller, from the incoming call's source.identity (shown in the result). */
  caller?: IdentitySet;
}

/** `POST /api/bot-calls`: create a call or join a meeting; `id` makes the workflow id `call-<id>`. */
export interface StartBotCallRequest {
  request: CallRequest;
  timeouts?: Partial<BotCallTimeouts>;
  id?: string;
}

/** `201` of a start: the workflow and, when a Temporal UI is configured, its page. */
export interface StartedWorkflow {
  workflowId: string;
  runId: string;
  uiUrl?: string;
}

/** What `GET /api/transfers/:id` and `GET /api/bot-calls/:id` answer about one workflow run. */
export interface RunStatus<Snapshot, Result> {
  workflowId: string;
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, … */
  status: string;
  /** The flow's phase, from the live snapshot while running, else from the search attributes. */
  phase?: string;
  /** The flow's state while it runs and a worker answered in time. */
  snapshot?: Snapshot;
  /** Why there is no snapshot although the workflow runs (no worker polling, …). */
  snapshotError?: string;
  /** The result once it completed; for a failed run, the result its failure carries. */
  result?: Result;
  failure?: { message: string; type?: string };
  startTime: string;
  closeTime?: string;
  uiUrl?: string;
}

export type TransferStatus = RunStatus<TransferSnapshot, TransferResult>;
export type BotCallStatus = RunStatus<BotCallSnapshot, BotCallResult>;
export type IncomingCallStatus = RunStatus<IncomingCallSnapshot, IncomingCallResult>;
export type NativeTransferStatus = RunStatus<NativeTransferSnapshot, NativeTransferResult>;

/** `202` of `POST /api/transfers/:id/cancel`. */
export interface CancelRequested {
  workflowId: string;
  runId: string;
  status: 'CANCEL_REQUESTED';
}

/** `202` of `POST /api/bot-calls/:id/hang-up`. */
export interface HangUpRequested {
  workflowId: string;
  runId: string;
  status: 'HANG_UP_REQUESTED';
}

/** `202` of an operation accepted but without an outcome within 60 s: it goes on. */
export interface OperationPending {
  workflowId: string;
  updateId: string;
  status: 'ACCEPTED';
  message: string;
}

/** An operation's answer: its outcome (200), or that it was accepted and goes on (202). */
export type OperationAnswer = OperationOutcome | OperationPending;

/** The body of every error answer. */
export interface ErrorBody {
  error: { code: string; message: string; issues?: Array<{ path: string; message: string }> };
}

/** `GET /api/routing-rules` and `POST /api/routing-rules/reload` (docs/routing.md, "API"). */
export interface RoutingRulesStatus {
  source: string;
  version?: string;
  loadedAt: string;
  targets: Record<string, NamedTarget>;
  rules: Rule[];
  default: RouteAction;
  /** Why the last reload was refused; the rules above stayed in force. */
  lastReloadError?: { at: string; message: string };
}
