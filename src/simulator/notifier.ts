import { setMaxListeners } from 'node:events';
import { createRandom, type Random } from './random.js';
import type { CommsNotifications, OutgoingNotification } from './resources.js';
import {
  type DeliveryProfile,
  type NotificationKind,
  type NotificationMatch,
  type NotificationSettings,
  reorderProbability,
} from './settings.js';

/** One POST of a notification to a bot (a retry is a new record with the next attempt number). */
export interface DeliveryRecord {
  /** The notification's number; a duplicate copy and every retry carry the same one. */
  sequence: number;
  /** True for the extra copy `duplicateRate` made. */
  duplicate: boolean;
  /** The `urlContains` of the delivery profile that applied, if one did. */
  profile?: string;
  url: string;
  body: CommsNotifications;
  kind: NotificationKind;
  callId: string;
  /** When the POST started. */
  at: Date;
  attempt: number;
  status?: number;
  error?: string;
}

/** A notification the knobs chose not to post. */
export interface DroppedNotification {
  sequence: number;
  url: string;
  body: CommsNotifications;
  kind: NotificationKind;
  callId: string;
  at: Date;
  reason: 'dropKinds' | 'dropRate' | 'profile';
  /** The `urlContains` of the delivery profile that applied, if one did. */
  profile?: string;
}

export interface NotifierDeps {
  random: Random;
  settings: () => NotificationSettings;
  signToken: () => Promise<string>;
  deliveries: DeliveryRecord[];
  dropped: DroppedNotification[];
}

export interface Notifier {
  /**
   * Queues the notifications one Graph event produced, in the order Graph would send them.
   * The knobs apply here: drops, duplicates, reordering within the batch, delay and jitter.
   */
  post(batch: readonly OutgoingNotification[]): void;
  /** Resolves when nothing is queued, waiting or in flight (retries included). */
  whenIdle(): Promise<void>;
  readonly pending: number;
  /** Abandons everything queued and in flight. */
  stop(): void;
}

interface QueuedNotification extends OutgoingNotification {
  sequence: number;
  duplicate: boolean;
  dueAt: number;
  profile?: string;
}

/** What the notifier remembers per delivery profile: its random source and the calls it has seen. */
interface ProfileState {
  seed: number;
  random: Random;
  /** Lower-case call ids in the order their first notification reached the profile. */
  calls: string[];
}

const profileLanePrefix = 'profile:';

function matchesRule(rule: NotificationMatch, kind: NotificationKind, call: number): boolean {
  return (rule.kind === undefined || rule.kind === kind) && (rule.call === undefined || rule.call === call);
}

/**
 * Delivers notifications one at a time per bot (per callback origin), so that by default a bot
 * sees them in the order Graph produced them, like the seed walkthroughs show. A 5xx answer or
 * a network error is retried with backoff, as Graph does; a 2xx or 4xx answer ends delivery.
 */
export function createNotifier(deps: NotifierDeps): Notifier {
  const { random, settings, signToken, deliveries, dropped } = deps;
  const lanes = new Map<string, QueuedNotification[]>();
  const pumping = new Set<string>();
  const sleepers = new Map<NodeJS.Timeout, () => void>();
  const stopController = new AbortController();
  // Every POST in flight listens to it; with delivery profiles many are in flight at once.
  setMaxListeners(0, stopController.signal);
  let idleWaiters: Array<() => void> = [];
  let pending = 0;
  let lastSequence = 0;
  let stopped = false;

  function sleep(ms: number): Promise<void> {
    if (ms <= 0 || stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        sleepers.delete(timer);
        resolve();
      }, ms);
      sleepers.set(timer, resolve);
    });
  }

  function settle(count = 1): void {
    pending -= count;
    if (pending <= 0) {
      pending = 0;
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  function laneKey(url: string): string {
    try {
      return new URL(url).origin;
    } catch {
      return url;
    }
  }

  async function deliver(item: QueuedNotification): Promise<void> {
    const { maxAttempts, retryDelayMs, timeoutMs } = settings();
    for (let attempt = 1; attempt <= maxAttempts && !stopped; attempt++) {
      const record: DeliveryRecord = {
        sequence: item.sequence,
        duplicate: item.duplicate,
        ...(item.profile !== undefined ? { profile: item.profile } : {}),
        url: item.url,
        body: item.body,
        kind: item.kind,
        callId: item.callId,
        at: new Date(),
        attempt,
      };
      let retryable: boolean;
      try {
        const token = await signToken();
        const response = await fetch(item.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(item.body),
          signal: AbortSignal.any([stopController.signal, AbortSignal.timeout(timeoutMs)]),
        });
        await response.arrayBuffer().catch(() => undefined);
        record.status = response.status;
        retryable = response.status >= 500;
      } catch (error) {
        if (stopped) return;
        record.error = describeFetchError(error);
        retryable = true;
      }
      deliveries.push(record);
      if (!retryable) return;
      if (attempt < maxAttempts) await sleep(retryDelayMs * 2 ** (attempt - 1));
    }
  }

  async function pump(key: string): Promise<void> {
    if (pumping.has(key)) return;
    pumping.add(key);
    try {
      const lane = lanes.get(key);
      while (lane && lane.length > 0 && !stopped) {
        const head = lane[0] as QueuedNotification;
        await sleep(head.dueAt - Date.now());
        if (stopped) return;
        await deliver(head);
        lane.shift();
        settle();
      }
      // A profile's lane lives as long as its run: do not keep one per run ever seen.
      if (lane?.length === 0 && key.startsWith(profileLanePrefix)) lanes.delete(key);
    } finally {
      pumping.delete(key);
    }
  }

  const profileStates = new Map<string, ProfileState>();

  function stateOf(profile: DeliveryProfile): ProfileState {
    let state = profileStates.get(profile.urlContains);
    if (!state || state.seed !== profile.seed) {
      state = { seed: profile.seed, random: createRandom(profile.seed), calls: [] };
      profileStates.set(profile.urlContains, state);
    }
    return state;
  }

  function callNumber(state: ProfileState, callId: string): number {
    const key = callId.toLowerCase();
    const known = state.calls.indexOf(key);
    if (known >= 0) return known;
    state.calls.push(key);
    return state.calls.length - 1;
  }

  function enqueue(items: QueuedNotification[], laneKeyOf: (item: QueuedNotification) => string): void {
    const touched = new Set<string>();
    for (const item of items) {
      const key = laneKeyOf(item);
      const lane = lanes.get(key) ?? [];
      lane.push(item);
      lanes.set(key, lane);
      touched.add(key);
      pending += 1;
    }
    for (const key of touched) void pump(key);
  }

  /** Posts one notification at its due time, queued behind nothing. */
  function postOnItsOwn(item: QueuedNotification): void {
    pending += 1;
    void (async () => {
      await sleep(item.dueAt - Date.now());
      if (stopped) return;
      await deliver(item);
      settle();
    })();
  }

  /** The knobs as they always were: one FIFO lane per bot origin, the shared random source. */
  function postWithGlobalKnobs(batch: readonly OutgoingNotification[], current: NotificationSettings): void {
    let queued: QueuedNotification[] = [];
    for (const notification of batch) {
      const sequence = ++lastSequence;
      const dropReason = current.dropKinds.includes(notification.kind)
        ? 'dropKinds'
        : random.chance(current.dropRate)
          ? 'dropRate'
          : undefined;
      if (dropReason) {
        dropped.push({ ...notification, sequence, at: new Date(), reason: dropReason });
        continue;
      }
      queued.push({ ...notification, sequence, duplicate: false, dueAt: 0 });
      if (random.chance(current.duplicateRate)) {
        queued.push({ ...notification, sequence, duplicate: true, dueAt: 0 });
      }
    }
    if (queued.length > 1 && random.chance(reorderProbability(current.reorder))) {
      queued = random.shuffle(queued);
    }
    const now = Date.now();
    for (const item of queued) {
      item.dueAt = now + current.delayMs + (current.jitterMs > 0 ? random.int(current.jitterMs + 1) : 0);
    }
    enqueue(queued, (item) => laneKey(item.url));
  }

  /**
   * A profile's notifications: its own random source and lane, so that one run's delays never hold
   * up another's. Late and independent notifications skip the lane altogether.
   */
  function postWithProfile(
    batch: readonly OutgoingNotification[],
    current: NotificationSettings,
    profile: DeliveryProfile,
  ): void {
    const state = stateOf(profile);
    const own = state.random;
    let queued: Array<QueuedNotification & { lateMs: number }> = [];
    for (const notification of batch) {
      const sequence = ++lastSequence;
      const call = callNumber(state, notification.callId);
      const dropReason = profile.drop?.some((rule) => matchesRule(rule, notification.kind, call))
        ? 'profile'
        : current.dropKinds.includes(notification.kind)
          ? 'dropKinds'
          : random.chance(current.dropRate)
            ? 'dropRate'
            : undefined;
      if (dropReason) {
        dropped.push({
          ...notification,
          sequence,
          at: new Date(),
          reason: dropReason,
          profile: profile.urlContains,
        });
        continue;
      }
      const lateMs = (profile.late ?? [])
        .filter((rule) => matchesRule(rule, notification.kind, call))
        .reduce((total, rule) => total + rule.delayMs, 0);
      const item = {
        ...notification,
        sequence,
        duplicate: false,
        dueAt: 0,
        lateMs,
        profile: profile.urlContains,
      };
      queued.push(item);
      if (own.chance(profile.duplicateRate ?? current.duplicateRate))
        queued.push({ ...item, duplicate: true });
    }
    if (queued.length > 1 && own.chance(reorderProbability(profile.reorder ?? current.reorder))) {
      queued = own.shuffle(queued);
    }
    const now = Date.now();
    const delayMs = profile.delayMs ?? current.delayMs;
    const jitterMs = profile.jitterMs ?? current.jitterMs;
    const inLane: QueuedNotification[] = [];
    for (const { lateMs, ...item } of queued) {
      item.dueAt = now + delayMs + (jitterMs > 0 ? own.int(jitterMs + 1) : 0) + lateMs;
      if (profile.independent || lateMs > 0) postOnItsOwn(item);
      else inLane.push(item);
    }
    enqueue(inLane, () => `${profileLanePrefix}${profile.urlContains}`);
  }

  return {
    post(batch) {
      if (stopped || batch.length === 0) return;
      const current = settings();
      if (current.profiles.length === 0) {
        postWithGlobalKnobs(batch, current);
        return;
      }
      // One Graph event may notify several callbacks (an invite with replacesCallId notifies the
      // replaced call's too): each part gets the knobs of its own callback, in batch order.
      const parts = new Map<DeliveryProfile | undefined, OutgoingNotification[]>();
      for (const notification of batch) {
        const profile = current.profiles.find((candidate) =>
          notification.url.includes(candidate.urlContains),
        );
        parts.set(profile, [...(parts.get(profile) ?? []), notification]);
      }
      for (const [profile, part] of parts) {
        if (profile) postWithProfile(part, current, profile);
        else postWithGlobalKnobs(part, current);
      }
    },

    whenIdle() {
      if (pending === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },

    get pending() {
      return pending;
    },

    stop() {
      if (stopped) return;
      stopped = true;
      stopController.abort();
      for (const [timer, resolve] of sleepers) {
        clearTimeout(timer);
        resolve();
      }
      sleepers.clear();
      lanes.clear();
      settle(pending);
    },
  };
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name === 'TimeoutError' ? 'timed out' : error.message}${cause}`;
}
