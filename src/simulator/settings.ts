import { z } from 'zod';

/** What a notification is about; the names `dropKinds` accepts and `deliveries` reports. */
export const notificationKinds = [
  'incoming',
  'establishing',
  'established',
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
};

export const defaultFaultSettings: FaultSettings = {
  throttleRate: 0,
  throttleStatuses: [429],
  retryAfterSeconds: 1,
};

const rate = z.number().min(0).max(1);
const milliseconds = z.number().int().min(0);

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
