/**
 * Inputs and outputs of the transfer workflow. Plain JSON: they are stored in workflow history
 * and read by other services, so every change here must stay readable by old histories.
 */
import type { ChatInfo, IdentitySet, MediaInfo, Modality } from '../../graph/index.js';

/**
 * Where the caller is transferred to: a group call the bot creates or joins without media, then
 * invites the caller into with `replacesCallId` (which needs a multiparty call).
 */
export type TransferTarget =
  /**
   * A scheduled or channel meeting, by organizer + chatInfo (seed 001, step 2; create call
   * examples 5 and 9). With `guest`, the bot joins as that guest and may wait in the lobby until
   * admitted (example 10).
   */
  | {
      kind: 'meeting';
      chatInfo: ChatInfo;
      organizer: IdentitySet;
      subject?: string;
      guest?: { id: string; displayName: string };
    }
  /** A scheduled meeting joined by its join id and optional passcode (seed 004, examples 6 and 7). */
  | { kind: 'joinMeetingId'; joinMeetingId: string; passcode?: string; subject?: string }
  /** A new group call ringing 2 to 5 VoIP users (create call example 3). */
  | { kind: 'groupCall'; targets: IdentitySet[]; subject?: string };

export interface TransferTimeouts {
  /** How long to wait for a call to reach `established` before reading it from Graph. */
  callEstablishedMs: number;
  /** How long to wait for the invite operation's final status before reading it from Graph. */
  inviteCompletedMs: number;
  /** How long to wait for the original call to end after the invite completed. */
  originalCallEndedMs: number;
  /** A guest join (`target.guest`): how long to wait in the lobby to be admitted. */
  lobbyMs: number;
  /**
   * Once the original call ended: how long to wait for the roster update and the termination
   * reason Graph sends with its end, when they have not arrived yet (they may come in any order).
   */
  endDetailsMs: number;
}

export const defaultTransferTimeouts: TransferTimeouts = {
  callEstablishedMs: 30_000,
  inviteCompletedMs: 60_000,
  originalCallEndedMs: 60_000,
  lobbyMs: 120_000,
  endDetailsMs: 5_000,
};

export interface TransferInput {
  /** The P2P call to transfer (the id from the incoming-call notification). */
  p2pCallId: string;
  /** The party to move into the group call: the caller, from the incoming call's `source`. */
  invitee: IdentitySet;
  target: TransferTarget;
  /** Where Graph sends this workflow's notifications: `${PUBLIC_BASE_URL}/api/calls/<workflowId>`. */
  callbackUri: string;
  /** The bot's application id: the group call's `source`. */
  botAppId: string;
  tenantId?: string;
  /**
   * Set when another system answered the P2P call: the workflow does not answer it, and since the
   * call's notifications go to that system, it reads the call from Graph to follow it.
   */
  alreadyAnswered?: boolean;
  acceptedModalities?: Modality[];
  /** Prompts Graph should prefetch when answering (service-hosted media, seed 000). */
  preFetchMedia?: MediaInfo[];
  timeouts?: Partial<TransferTimeouts>;
  /** How often to send keepAlive for the calls the workflow holds; default 15 minutes. */
  keepAliveIntervalMs?: number;
  /**
   * Where to move the caller when the transfer to `target` fails while the caller is still in the
   * P2P call (issue 10.3). Without one, or when it fails too, the P2P call the bot answered is
   * hung up: the caller is never left in a silent call.
   */
  fallbackTarget?: TransferTarget;
  /** What the bot's own leg in the group call does after a successful transfer; default `leave`. */
  botLegAfterTransfer?: BotLegPolicy;
  /** `stay` only: hang up the bot's leg this long after the transfer at the latest; default 4 hours. */
  stayMaxDurationMs?: number;
}

/**
 * The bot's own leg in the group call once the caller is in (issue 10.2, docs/call-ownership.md):
 * - `leave`: hang it up once the invitee is in the roster; the group call goes on for the others.
 * - `stay`: the workflow continues as a `groupCallOwner` (same workflow id, so Graph's
 *   notifications still reach it) that keeps the call alive, follows the roster and hangs up when
 *   the bot is the only one left or after `stayMaxDurationMs`.
 */
export type BotLegPolicy = 'leave' | 'stay';

/** A transfer that cannot complete: the workflow fails with this type after compensating. */
export const TRANSFER_FAILED = 'TransferFailed';

export const DEFAULT_BOT_LEG_POLICY: BotLegPolicy = 'leave';
export const DEFAULT_STAY_MAX_DURATION_MS = 4 * 60 * 60 * 1000;

/**
 * What happens to the calls around a transfer, per transfer (API fields of the same names) or by
 * configuration (HANDOFF_BOT_LEG_AFTER_TRANSFER, HANDOFF_STAY_MAX_DURATION_MS,
 * HANDOFF_FALLBACK_TARGET): a transfer's own fields win.
 */
export interface TransferPolicy {
  fallbackTarget?: TransferTarget;
  botLegAfterTransfer?: BotLegPolicy;
  stayMaxDurationMs?: number;
  /** Configuration only (HANDOFF_KEEP_ALIVE_INTERVAL_MS): how often the transfer and its owner send keepAlive. */
  keepAliveIntervalMs?: number;
}

/** A target that was tried and failed before the fallback (or the hang-up) took over. */
export interface FailedTransferAttempt {
  targetKind: TransferTarget['kind'];
  groupCallId?: string;
  reason: string;
}

export type TransferPhase =
  | 'answering'
  | 'creatingGroupCall'
  | 'inviting'
  | 'awaitingOriginalCallEnd'
  /** After a failed attempt: moving the caller to `fallbackTarget`. */
  | 'tryingFallback'
  /** The caller is in: the bot hangs up its own leg (`leave`). */
  | 'leavingGroupCall'
  /** The caller is in; the workflow continued as the group call's owner (`stay`). */
  | 'holdingGroupCall'
  | 'completed'
  /** The P2P call ended, but neither the invite's completion nor the invitee in a roster was seen. */
  | 'completedUnverified'
  | 'failed'
  | 'cancelled';

/** Milliseconds since the Unix epoch, by the workflow's deterministic clock. */
export interface TransferTimings {
  startedAt: number;
  p2pEstablishedAt?: number;
  groupCallEstablishedAt?: number;
  inviteSentAt?: number;
  inviteCompletedAt?: number;
  originalCallEndedAt?: number;
  finishedAt?: number;
}

export interface TransferResult {
  /**
   * `running` until the transfer has finished (snapshots of a running transfer). `completed` only
   * when the invite completed or the invitee was seen in a roster; `completedUnverified` when the
   * P2P call ended but neither was seen (`reason` says so).
   */
  outcome: 'running' | 'completed' | 'completedUnverified' | 'failed' | 'cancelled';
  /** Why it did not complete, or why it is unverified. */
  reason?: string;
  p2pCallId: string;
  groupCallId?: string;
  inviteOperationId?: string;
  inviteClientContext?: string;
  originalCallTerminationReason?: string;
  /** Whether the invitee was seen in a roster after the invite. */
  inviteeSeenInRoster: boolean;
  /** Extra calls that reported to this workflow (a retried create call's twin) and were hung up. */
  orphanedCallsHungUp: string[];
  timings: TransferTimings;
  /** Targets tried before the one the caller ended in (or before the P2P call was hung up). */
  failedAttempts?: FailedTransferAttempt[];
  /** The caller was moved to `fallbackTarget`. */
  fallbackUsed?: boolean;
  /** The caller hung up before the transfer could move them: nobody was invited. */
  callerHungUp?: boolean;
  /** The transfer failed and the bot hung up the P2P call it had answered, so the caller is not left in silence. */
  p2pCallHungUp?: boolean;
  /** After success: `left` (the bot hung up its leg), `stayed` (an owner holds it), `leaveFailed`. */
  botLeg?: 'left' | 'stayed' | 'leaveFailed';
  /** Keep-alive rounds that failed and were retried at the next interval. */
  keepAliveFailures?: number;
}

/** What the `transferState` query returns: where the transfer is, and everything it knows. */
export interface TransferSnapshot {
  phase: TransferPhase;
  result: TransferResult;
  calls: Array<{ callId: string; state?: string; terminationReason?: string; rosterSize: number }>;
  operations: Array<{ callId: string; operationId?: string; clientContext?: string; status: string }>;
  notificationsSeen: number;
}
