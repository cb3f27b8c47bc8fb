import { z } from 'zod';

/** What a notification is about; the names `dropKinds` accepts and `deliveries` reports. */
export const notificationKinds = [
  'incoming',
  'establishing',
  'established',
  'redirecting',
  'transferring',
  'transferAccepted',
  'terminated',
  'deleted',
  'operation',
  'roster',
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

export interface NotificationSettings {
  /** Base delay before each notification is posted. */
  delayMs: number;
  /** Random extra delay, 0..jitterMs, added to delayMs. */
  jitterMs: number;
  /**
   * Shuffles the notifications one Graph event produces (answer: establishing + established;
   * invite: operation + roster + terminated + deleted; …) before they are queued. `true` always,
   * a number is the probability per event.
   */
  reorder: boolean | number;
  /** 0..1 share of notifications posted twice. */
  duplicateRate: number;
  /** 0..1 share of notifications never posted. */
  dropRate: number;
  /** Kinds never posted, e.g. ['established']. */
  dropKinds: string[];
  /** Attempts per notification when the bot answers 5xx or cannot be reached (Graph retries). */
  maxAttempts: number;
  /** Wait before the first retry; doubles per retry. */
  retryDelayMs: number;
  /** A POST that takes longer than this counts as a network error. */
  timeoutMs: number;
  /**
   * Delivery conditions for some callbacks only: a notification whose URL contains a profile's
   * `urlContains` (a workflow id, say) is reordered, duplicated, delayed and dropped by that profile,
   * with its own seeded random source, so that concurrent runs each get their own conditions and
   * none waits behind another's delays. The first matching profile applies; `dropKinds` and
   * `dropRate` above apply to every notification as well.
   */
  profiles: DeliveryProfile[];
}

/**
 * Picks notifications of one profile by kind, by call, or both. Calls are numbered in the order
 * their first notification reached the profile (0 = the first): for a transfer workflow's
 * callback, 0 is the answered P2P call, 1 the first group call it created, 2 a second one.
 */
export interface NotificationMatch {
  kind?: NotificationKind;
  call?: number;
}

export interface DeliveryProfile {
  /** The profile applies to notifications whose URL contains this text. */
  urlContains: string;
  /** Seeds the profile's own random source: its choices do not depend on other traffic. */
  seed: number;
  /** As the global knobs, for this profile's notifications; the global value when omitted. */
  reorder?: boolean | number;
  duplicateRate?: number;
  delayMs?: number;
  jitterMs?: number;
  /**
   * Each notification is posted at its own due time instead of queued behind the ones posted
   * before it: with jitter, notifications of different Graph events overtake each other.
   */
  independent?: boolean;
  /** Never posted (recorded in `dropped` with reason `profile`). */
  drop?: NotificationMatch[];
  /**
   * Posted this much later (matching rules add up), on their own, so that nothing waits behind
   * them: a notification that arrives after the workflow moved on, gave up or finished.
   */
  late?: Array<NotificationMatch & { delayMs: number }>;
}

export interface FaultSettings {
  /** 0..1 share of Graph API requests answered with an error instead of served. */
  throttleRate: number;
  throttleStatuses: Array<429 | 503>;
  /** Sent as Retry-After on throttled answers. */
  retryAfterSeconds: number;
}

export const defaultNotificationSettings: NotificationSettings = {
  delayMs: 10,
  jitterMs: 0,
  reorder: false,
  duplicateRate: 0,
  dropRate: 0,
  dropKinds: [],
  maxAttempts: 3,
  retryDelayMs: 20,
  timeoutMs: 5_000,
  profiles: [],
};

export const defaultFaultSettings: FaultSettings = {
  throttleRate: 0,
  throttleStatuses: [429],
  retryAfterSeconds: 1,
};

const rate = z.number().min(0).max(1);
const milliseconds = z.number().int().min(0);

const notificationKindSchema = z.enum(notificationKinds, {
  error: `notification kinds must be one of ${notificationKinds.join(', ')}`,
});

const notificationMatchFields = {
  kind: notificationKindSchema.optional(),
  call: z.number().int().min(0).optional(),
};

const deliveryProfileSchema = z.strictObject({
  urlContains: z.string().min(1, 'urlContains must not be empty: it would match every callback'),
  seed: z.number().int(),
  reorder: z.union([z.boolean(), rate]).optional(),
  duplicateRate: rate.optional(),
  delayMs: milliseconds.optional(),
  jitterMs: milliseconds.optional(),
  independent: z.boolean().optional(),
  drop: z.array(z.strictObject(notificationMatchFields)).optional(),
  late: z.array(z.strictObject({ ...notificationMatchFields, delayMs: milliseconds })).optional(),
});

export const notificationSettingsPatchSchema = z.strictObject({
  delayMs: milliseconds.optional(),
  jitterMs: milliseconds.optional(),
  reorder: z.union([z.boolean(), rate]).optional(),
  duplicateRate: rate.optional(),
  dropRate: rate.optional(),
  dropKinds: z
    .array(
      z.enum(notificationKinds, {
        error: `dropKinds entries must be one of ${notificationKinds.join(', ')}`,
      }),
    )
    .optional(),
  maxAttempts: z.number().int().min(1).max(20).optional(),
  retryDelayMs: milliseconds.optional(),
  timeoutMs: z.number().int().min(1).optional(),
  profiles: z
    .array(deliveryProfileSchema)
    .refine(
      (profiles) => new Set(profiles.map((profile) => profile.urlContains)).size === profiles.length,
      'profiles must have distinct urlContains',
    )
    .optional(),
});

export const faultSettingsPatchSchema = z.strictObject({
  throttleRate: rate.optional(),
  throttleStatuses: z
    .array(
      z.union([z.literal(429), z.literal(503)], { error: 'throttleStatuses entries must be 429 or 503' }),
    )
    .min(1, 'throttleStatuses needs at least one status')
    .optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
});

export const settingsPatchSchema = z.strictObject({
  faults: faultSettingsPatchSchema.optional(),
  notifications: notificationSettingsPatchSchema.optional(),
});
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

export interface Settings {
  faults: FaultSettings;
  notifications: NotificationSettings;
}

/** Thrown for simulator options or settings that make no sense; the message names the field. */
export class SimulatorConfigError extends Error {
  override readonly name = 'SimulatorConfigError';
}

/** Validates a settings patch and returns the merged settings; throws naming every bad field. */
export function mergeSettings(current: Settings, patch: unknown): Settings {
  const parsed = settingsPatchSchema.safeParse(patch);
  if (!parsed.success) {
    throw new SimulatorConfigError(`invalid simulator settings:\n${z.prettifyError(parsed.error)}`);
  }
  return {
    faults: { ...current.faults, ...definedOnly(parsed.data.faults) },
    notifications: { ...current.notifications, ...definedOnly(parsed.data.notifications) },
  };
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as Partial<T>;
}

export function reorderProbability(reorder: boolean | number): number {
  if (typeof reorder === 'boolean') return reorder ? 1 : 0;
  return reorder;
}
