/**
 * Who is in a call right now, as its roster notifications tell it: what a call's owner needs to
 * hang up when the bot is the only one left (issue 10.2, `stay`). The call-state reducer keeps
 * what was ever seen (order-independent flags); this keeps the present, from the latest report.
 *
 * A full roster (`participant` resources) lists everyone in the call: it replaces what was known.
 * A delta roster (`deltaParticipants`, with a sequence number) adds and removes (`removedState`);
 * one older than the last applied is ignored. Plain JSON, so that it can be carried across
 * continue-as-new. Workflow-safe: no I/O.
 */
import type { GraphNotification, IdentitySet, Participant } from '../graph/index.js';

export interface RosterPresence {
  /** Lower-case keys (participant id, else identity id) of the parties in the call, sorted. */
  present: string[];
  /** Keys of the bot's own participants (its application identity), sorted. */
  bot: string[];
  /** Highest delta-roster sequence number applied. */
  sequenceNumber?: number;
  /** Whether any roster was seen: before that, "alone" means nothing. */
  seen: boolean;
}

export function emptyRosterPresence(): RosterPresence {
  return { present: [], bot: [], seen: false };
}

function identityId(identity: IdentitySet | undefined): string | undefined {
  if (!identity) return undefined;
  for (const member of [
    identity.user,
    identity.application,
    identity.applicationInstance,
    identity.phone,
    identity.guest,
    identity.device,
  ]) {
    if (member?.id) return member.id;
  }
  return undefined;
}

function keyOf(participant: Participant): string | undefined {
  return (participant.id ?? identityId(participant.info.identity))?.toLowerCase();
}

function isBot(participant: Participant, botAppId: string): boolean {
  const application = participant.info.identity?.application?.id;
  return typeof application === 'string' && application.toLowerCase() === botAppId.toLowerCase();
}

const sorted = (keys: Iterable<string>): string[] => [...new Set(keys)].sort();

/**
 * Applies a notification about `callId` (others are ignored) and returns the new presence;
 * `presence` is not changed.
 */
export function applyRosterPresence(
  presence: RosterPresence,
  notification: GraphNotification,
  callId: string,
  botAppId: string,
): RosterPresence {
  if (notification.kind !== 'participants' || notification.callId.toLowerCase() !== callId.toLowerCase()) {
    return presence;
  }
  const bot = new Set(presence.bot);
  for (const participant of notification.participants) {
    const key = keyOf(participant);
    if (key !== undefined && isBot(participant, botAppId)) bot.add(key);
  }
  const inCall = (participant: Participant) => !participant.removedState && !participant.isInLobby;
  if (notification.sequenceNumber === undefined) {
    const present = notification.participants.filter(inCall).map(keyOf);
    return {
      ...presence,
      present: sorted(present.filter((key): key is string => key !== undefined)),
      bot: sorted(bot),
      seen: true,
    };
  }
  if (presence.sequenceNumber !== undefined && notification.sequenceNumber <= presence.sequenceNumber) {
    return { ...presence, bot: sorted(bot) };
  }
  const present = new Set(presence.present);
  for (const participant of notification.participants) {
    const key = keyOf(participant);
    if (key === undefined) continue;
    if (inCall(participant)) present.add(key);
    else present.delete(key);
  }
  return {
    present: sorted(present),
    bot: sorted(bot),
    sequenceNumber: notification.sequenceNumber,
    seen: true,
  };
}

/** The bot is the only one left: a roster was seen and lists nobody but the bot. */
export function botIsAlone(presence: RosterPresence): boolean {
  if (!presence.seen) return false;
  const bot = new Set(presence.bot);
  return presence.present.every((key) => bot.has(key));
}
