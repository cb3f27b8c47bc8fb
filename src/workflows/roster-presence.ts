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
import type { GraphNotification, Participant } from '../graph/index.js';
import { rosterKey } from './call-state.js';

/** What the latest reports of one call's roster path say. */
export interface RosterPath {
  /** As Graph spelled it in the resource path. */
  callId: string;
  /** Lower-case keys (participant id, else identity id) of the parties in the call, sorted. */
  present: string[];
  /** Highest delta-roster sequence number applied. */
  sequenceNumber?: number;
}

export interface RosterPresence {
  /**
   * One entry per call whose roster describes this call: the call itself and, for a
   * `replacesCallId` invite, the replaced P2P call, on whose path Graph reports the invitee
   * (seeds 000, 001, 003 example 3). An array (not keyed by outside data), sorted by callId.
   */
  paths: RosterPath[];
  /** Keys of the bot's own participants (its application identity), sorted. */
  bot: string[];
}

export function emptyRosterPresence(): RosterPresence {
  return { paths: [], bot: [] };
}

function isBot(participant: Participant, botAppId: string): boolean {
  const application = participant.info.identity?.application?.id;
  return typeof application === 'string' && application.toLowerCase() === botAppId.toLowerCase();
}

const sorted = (keys: Iterable<string>): string[] => [...new Set(keys)].sort();

/**
 * Applies a roster notification about one of `callIds` (anything else is ignored) and returns
 * the new presence; `presence` is not changed.
 */
export function applyRosterPresence(
  presence: RosterPresence,
  notification: GraphNotification,
  callIds: readonly string[],
  botAppId: string,
): RosterPresence {
  const callKey = notification.callId.toLowerCase();
  if (notification.kind !== 'participants' || !callIds.some((callId) => callId.toLowerCase() === callKey)) {
    return presence;
  }
  const bot = new Set(presence.bot);
  for (const participant of notification.participants) {
    const key = rosterKey(participant);
    if (key !== undefined && isBot(participant, botAppId)) bot.add(key);
  }
  const existing = presence.paths.find((path) => path.callId.toLowerCase() === callKey);
  const others = presence.paths.filter((path) => path !== existing);
  const inCall = (participant: Participant) => !participant.removedState && !participant.isInLobby;
  let next: RosterPath;
  if (notification.sequenceNumber === undefined) {
    const present = notification.participants.filter(inCall).map(rosterKey);
    next = {
      callId: notification.callId,
      present: sorted(present.filter((key): key is string => key !== undefined)),
      ...(existing?.sequenceNumber !== undefined ? { sequenceNumber: existing.sequenceNumber } : {}),
    };
  } else if (
    existing?.sequenceNumber !== undefined &&
    notification.sequenceNumber <= existing.sequenceNumber
  ) {
    return { paths: presence.paths, bot: sorted(bot) };
  } else {
    const present = new Set(existing?.present ?? []);
    for (const participant of notification.participants) {
      const key = rosterKey(participant);
      if (key === undefined) continue;
      if (inCall(participant)) present.add(key);
      else present.delete(key);
    }
    next = {
      callId: existing?.callId ?? notification.callId,
      present: sorted(present),
      sequenceNumber: notification.sequenceNumber,
    };
  }
  const paths = [...others, next].sort((a, b) => (a.callId.toLowerCase() < b.callId.toLowerCase() ? -1 : 1));
  return { paths, bot: sorted(bot) };
}

/**
 * The bot is the only one left: a roster was seen, and no path lists anyone but the bot. While
 * any path still lists someone else, the bot stays (leaving early would only end its own leg,
 * but staying is what `stay` promised).
 */
export function botIsAlone(presence: RosterPresence): boolean {
  if (presence.paths.length === 0) return false;
  const bot = new Set(presence.bot);
  return presence.paths.every((path) => path.present.every((key) => bot.has(key)));
}

/** How many parties other than the bot the rosters list, for the UI. */
export function othersPresent(presence: RosterPresence): number {
  const bot = new Set(presence.bot);
  return new Set(presence.paths.flatMap((path) => path.present).filter((key) => !bot.has(key))).size;
}
