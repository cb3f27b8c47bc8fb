/**
 * The seed pages' notifications as the reducer sees them (parsed by src/graph), picked by body
 * reference or by a section of a page, so that tests never retype a seed's JSON.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CommsOperation,
  commsOperationSchema,
  type GraphNotification,
  parseNotifications,
} from '../../src/graph/index.js';
import { listSeedBodies, loadSeedCorpus, type SeedBody, type SeedBodyKind, seedBody } from './seeds.js';

/** The notifications of one seed body, e.g. `notificationsAt('000:22')`. */
export function notificationsAt(ref: string): GraphNotification[] {
  const body = seedBody(ref);
  if (body.kind !== 'notification') throw new Error(`seed body ${ref} is a ${body.kind}, not a notification`);
  return parseNotifications(body.json);
}

/** The one notification of a seed body that holds exactly one. */
export function notificationAt(ref: string): GraphNotification {
  const notifications = notificationsAt(ref);
  if (notifications.length !== 1) {
    throw new Error(`seed body ${ref} holds ${notifications.length} notifications; use notificationsAt`);
  }
  return notifications[0]!;
}

/**
 * A mutable copy of a seed body's JSON (the corpus is frozen), for tests that need a variant
 * Graph could send but the pages do not print: a lower-case id, a participant admitted from
 * the lobby.
 */
export function seedJsonCopy(ref: string): unknown {
  return structuredClone(seedBody(ref).json);
}

export interface SeedSection {
  /** Text of the line that opens the section, e.g. `Example 2: Invite multiple participants`. */
  from: string;
  /** Text of the first line after `from` that closes it; the page's end when left out. */
  until?: string;
}

/**
 * The notifications of a seed page (`'000'`), or of one section of it, in page order.
 * Throws naming the heading when the page has no such line, so a renamed section fails loudly.
 */
export function seedSectionNotifications(seed: string, section?: SeedSection): GraphNotification[] {
  return labelledSeedNotifications(seed, section).map(({ notification }) => notification);
}

/** A notification with the seed body it came from (`000:22`), for messages and counterexamples. */
export interface LabelledNotification {
  ref: string;
  notification: GraphNotification;
}

/** As seedSectionNotifications, each with its body's reference; every page's when `seed` is left out. */
export function labelledSeedNotifications(seed?: string, section?: SeedSection): LabelledNotification[] {
  const bodies =
    seed === undefined
      ? listSeedBodies().filter((body) => body.kind === 'notification')
      : seedSectionBodies(seed, section, 'notification');
  return bodies.flatMap((body) =>
    parseNotifications(body.json).map((notification) => ({ ref: body.ref, notification })),
  );
}

/** What Graph answered to the invites of a seed page or section (`running`), parsed. */
export function seedSectionOperationResponses(seed: string, section?: SeedSection): CommsOperation[] {
  return seedSectionBodies(seed, section, 'operationResponse').map((body) =>
    commsOperationSchema.parse(body.json),
  );
}

function seedSectionBodies(seed: string, section: SeedSection | undefined, kind: SeedBodyKind): SeedBody[] {
  const corpus = loadSeedCorpus();
  const file = corpus.seeds.find((name) => name.startsWith(`${seed}_`));
  if (!file) throw new Error(`no seed page ${seed}_*.txt in ${corpus.seedsDir}`);
  let first = 1;
  let last = Number.POSITIVE_INFINITY;
  if (section) {
    const lines = readFileSync(join(corpus.seedsDir, file), 'utf8').split(/\r?\n/);
    const start = lines.findIndex((line) => line.includes(section.from));
    if (start < 0) throw new Error(`seed ${file} has no line containing "${section.from}"`);
    first = start + 1;
    if (section.until !== undefined) {
      const until = section.until;
      const end = lines.findIndex((line, index) => index > start && line.includes(until));
      if (end < 0) throw new Error(`seed ${file} has no line containing "${until}" after "${section.from}"`);
      last = end + 1;
    }
  }
  const bodies = listSeedBodies().filter(
    (body) => body.kind === kind && body.seed === file && body.line > first && body.line < last,
  );
  if (bodies.length === 0)
    throw new Error(`seed ${file} has no ${kind} bodies in ${JSON.stringify(section ?? 'the page')}`);
  return bodies;
}

/** Seed 001's "replacing an existing peer-to-peer call" walkthrough: the transfer flow. */
export const seed001ReplacingSection: SeedSection = {
  from: 'Example - Invite participants to a new multiparty call, replacing an existing peer-to-peer call',
};

/** Seed 003's invite examples, by number. */
export const seed003InviteExamples: Record<1 | 2 | 3 | 4 | 5, SeedSection> = {
  1: { from: 'Example 1: Invite one participant to an existing call', until: 'Example 2:' },
  2: { from: 'Example 2: Invite multiple participants to an existing group call', until: 'Example 3:' },
  3: { from: 'Example 3: Invite participants to an existing group call, replacing', until: 'Example 4:' },
  4: { from: 'Example 4: Invite one PSTN participant to an existing call', until: 'Example 5:' },
  5: { from: 'Example 5: Move one participant from one meeting to another' },
};
