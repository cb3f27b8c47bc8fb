/**
 * Inputs, outputs and messages of the `botCall` workflow: one workflow per call the bot creates
 * or joins (the call's owner, docs: issue 5 contract). Plain JSON: stored in workflow history and
 * read by other services, so every change here must stay readable by old histories.
 */
import type { ChatInfo, IdentitySet, MediaInfo, Modality, ResultInfo } from '../../graph/index.js';

/** How the bot takes part in the call's media (create call, seed 004). */
export type MediaChoice =
  /**
   * No media at all: `requestedModalities: []` and no mediaConfig. For a bot that joins only to
   * facilitate transfers (seed 000, "Join Channel Meeting without media"; seed 001, step 2).
   */
  | { kind: 'none' }
  /** Graph hosts the media (examples 1, 3, 5, 9, 11); prompts to prefetch optional. */
  | { kind: 'serviceHosted'; preFetchMedia?: MediaInfo[] }
  /** The bot hosts the media (examples 2, 4, 8, 12): the media session blob, passed through untouched. */
  | { kind: 'appHosted'; blob: string };

/** A call to create or a meeting to join: the create-call examples of seed 004, one kind each. */
export type CallRequest =
  /** Peer-to-peer VoIP call to one party (examples 1, 2). No roster: P2P calls report call states only. */
  | { kind: 'p2p'; target: IdentitySet; media: MediaChoice; modalities?: Modality[] }
  /**
   * Peer-to-peer PSTN call from an application instance with a number assigned (examples 11, 12).
   * `phoneNumber` is E.164 (`+12345678901`).
   */
  | {
      kind: 'pstn';
      phoneNumber: string;
      applicationInstance: { id: string; displayName?: string };
      media: MediaChoice;
    }
  /** Group call with 1 to 5 VoIP users (examples 3, 4). */
  | { kind: 'groupCall'; targets: IdentitySet[]; media: MediaChoice; subject?: string }
  /**
   * A scheduled or channel meeting, joined by organizer + chatInfo (examples 5, 8, 9). With
   * `guest`, the bot joins as that guest identity and may wait in the lobby (example 10).
   * `allowConversationWithoutHost` is true unless given, as in every seed example.
   */
  | {
      kind: 'meeting';
      chatInfo: ChatInfo;
      organizer: IdentitySet;
      media: MediaChoice;
      allowConversationWithoutHost?: boolean;
      guest?: { id: string; displayName: string };
      subject?: string;
    }
  /** A scheduled meeting joined by its join id, with or without passcode (examples 6, 7). */
  | { kind: 'joinMeetingId'; joinMeetingId: string; passcode?: string; media: MediaChoice; subject?: string };

export type CallRequestKind = CallRequest['kind'];

export interface BotCallTimeouts {
  /** How long to wait for the call to reach `established` before reading it from Graph. */
  establishedMs: number;
  /** How long a guest join waits in the lobby to be admitted before hanging up. */
  lobbyMs: number;
  /** How long to wait for an invite operation's final status before reading it from Graph. */
  operationMs: number;
  /** How long to wait for the invitees to show up in the roster once the operation is done. */
  rosterMs: number;
  /** How long transferIntoCall keeps reading the replaced call until Graph reports it gone. */
  originalCallEndedMs: number;
}

export const defaultBotCallTimeouts: BotCallTimeouts = {
  establishedMs: 30_000,
  lobbyMs: 5 * 60_000,
  operationMs: 60_000,
  rosterMs: 30_000,
  originalCallEndedMs: 60_000,
};

export interface BotCallInput {
  request: CallRequest;
  /** Where Graph sends this workflow's notifications: `${PUBLIC_BASE_URL}/api/calls/<workflowId>`. */
  callbackUri: string;
  /** The bot's application id: the call's `source` unless it joins as a guest or from an application instance. */
  botAppId: string;
  tenantId?: string;
  timeouts?: Partial<BotCallTimeouts>;
  /** How often to send keepAlive for the call; default 15 minutes. */
  keepAliveIntervalMs?: number;
  /**
   * Set by the workflow itself when it continues as new (issue 10.6): the call it already holds
   * and what it knew of it. A run with `resume` does not create the call again.
   */
  resume?: BotCallResume;
}

/** What a botCall carries across continue-as-new. Plain JSON. */
export interface BotCallResume {
  callId: string;
  result: BotCallResult;
  replacedCallIds: string[];
  /** The held call's roster as the reducer had it (only what was seen: joined, lobby, removed). */
  roster: Array<{
    participantId?: string;
    identity: IdentitySet;
    joined: boolean;
    seenInLobby: boolean;
    removed: boolean;
  }>;
  notificationsSeen: number;
  /** How many times the call's owner continued as new. */
  generation: number;
}

export type BotCallPhase =
  | 'creating'
  | 'establishing'
  | 'inLobby'
  | 'established'
  | 'ended'
  | 'failed'
  | 'cancelled';

/** A party to invite (microsoft.graph.invitationParticipantInfo without the transfer fields). */
export interface Invitee {
  identity: IdentitySet;
  endpointType?: string;
  languageId?: string;
  region?: string;
}

/** Invite 1 to 5 parties into the call (seed 003, examples 1, 2, 4). */
export interface InviteRequest {
  participants: Invitee[];
  /** Echoed by Graph in the operation; at most 256 characters. A fresh uuid when omitted. */
  clientContext?: string;
}

/**
 * Move the other party of a P2P call into this call (seed 003, example 3). Graph reads only one
 * participant with `replacesCallId`, so the request names exactly one.
 */
export interface TransferIntoCallRequest {
  participant: { identity: IdentitySet };
  replacesCallId: string;
}

/**
 * Move one participant from another meeting the same application holds into this call (seed
 * 003, example 5). `replacesCallId` is the source meeting's call id, `participantId` the
 * participant's id in it.
 */
export interface MoveParticipantRequest {
  participantId: string;
  identity: IdentitySet;
  replacesCallId: string;
}

/**
 * Blind transfer of one participant out of this group call ("call: transfer", v1.0): Graph rings
 * `transferTarget` and moves `transferee` (the participant, by identity and/or participant id) to it.
 */
export interface TransferParticipantRequest {
  transferTarget: { identity: IdentitySet };
  transferee: { identity: IdentitySet; participantId?: string };
}

export type OperationKind = 'invite' | 'transferIntoCall' | 'moveParticipant' | 'transfer';

/** What the roster said of one invitee when the update finished. */
export interface InviteeOutcome {
  identity: IdentitySet;
  /** Seen in the call's roster outside the lobby. */
  joined: boolean;
  /** Seen waiting in the lobby and not (yet) admitted. */
  inLobby: boolean;
}

/** What an update returns, and what the workflow remembers of it. */
export interface OperationOutcome {
  kind: OperationKind;
  operationId?: string;
  clientContext: string;
  /**
   * The invite operation's final status. When Graph never reported one, the roster decides
   * (everyone joined, or for transferIntoCall the replaced call is gone): `completed`, else `failed`.
   */
  status: 'completed' | 'failed';
  resultInfo?: ResultInfo;
  /** Why it failed, in words an operator can act on. */
  reason?: string;
  invitees: InviteeOutcome[];
  /** transfer only: Graph reported `transferAccepted` (the target took the transferee). */
  transferAccepted?: boolean;
  /** transferIntoCall only: Graph reports the replaced call gone (read after the operation). */
  replacedCallEnded?: boolean;
}

/** Milliseconds since the Unix epoch, by the workflow's deterministic clock. */
export interface BotCallTimings {
  startedAt: number;
  establishedAt?: number;
  endedAt?: number;
}

export interface BotCallResult {
  outcome: 'ended' | 'failed' | 'cancelled';
  callId?: string;
  /** Why it failed, was cancelled, or who ended it. */
  reason?: string;
  /** Graph's terminationReason for the call, when it gave one. */
  terminationReason?: string;
  /** Guest joins only: the bot waited in the lobby and was admitted. */
  admittedFromLobby?: boolean;
  operations: OperationOutcome[];
  timings: BotCallTimings;
}

/** One party in the call's roster, as the workflow has seen it. */
export interface RosterParticipant {
  /** Graph's participant id, else the identity's id (rosters may carry `id: null`, seed 003). */
  id: string;
  identity: IdentitySet;
  joined: boolean;
  inLobby: boolean;
  /** A delta roster reported the participant removed (`removedState`). */
  removed: boolean;
}

/** What the `botCallState` query returns. */
export interface BotCallSnapshot {
  phase: BotCallPhase;
  callId?: string;
  requestKind: CallRequestKind;
  roster: RosterParticipant[];
  /** Finished updates, oldest first. */
  operations: OperationOutcome[];
  /** Updates accepted and still running. */
  operationsInFlight: number;
  notificationsSeen: number;
  /** Why it failed or was cancelled. */
  reason?: string;
}
