import { z } from 'zod';
import { type Settings, SimulatorConfigError } from './settings.js';

/**
 * How the simulated parties behave in the call flows of issue 5 (create call page, seed 004;
 * participant-invite page, seed 003). Kept apart from the delivery and fault knobs in
 * settings.ts: these change what Graph does, not how its notifications travel.
 */

export const rosterModes = ['full', 'delta'] as const;
export type RosterMode = (typeof rosterModes)[number];

export interface FlowSettings {
  /**
   * `full` (Graph's default, "Delta roster disabled"): every roster notification lists the whole
   * roster as plain participants. `delta` ("Delta roster enabled"): a `deltaParticipants` with a
   * per-call `sequenceNumber`, listing only who joined, changed or left (`removedState`).
   */
  rosterMode: RosterMode;
  /**
   * A guest waiting in a meeting's lobby (seed 004, example 10) is admitted after this many
   * milliseconds; null: only by `admitFromLobby` / POST /_simulator/calls/{id}/admit.
   */
  lobbyAdmitAfterMs: number | null;
  /**
   * Identity ids (user, application, phone number, …; case-insensitive) of parties that never
   * join: invited, they are left out of the roster and an invite none of whose invitees joins
   * fails; called P2P, the call ends unanswered; as group call targets, they never appear.
   */
  decliningIdentityIds: string[];
  /**
   * Identity ids (case-insensitive) of parties that never answer and never decline: a P2P call to
   * them stays `establishing` (ringing) until the bot hangs it up, and a blind transfer to them stays
   * `transferring`, so a flow's own timeout decides.
   */
  ringingIdentityIds: string[];
}

/** Every knob the simulator has: delivery and faults (settings.ts) and the call flows. */
export interface SimulatorSettings extends Settings {
  flows: FlowSettings;
}

export const defaultFlowSettings: FlowSettings = {
  rosterMode: 'full',
  lobbyAdmitAfterMs: null,
  decliningIdentityIds: [],
  ringingIdentityIds: [],
};

export const flowSettingsPatchSchema = z.strictObject({
  rosterMode: z
    .enum(rosterModes, { error: `rosterMode must be one of ${rosterModes.join(', ')}` })
    .optional(),
  lobbyAdmitAfterMs: z
    .number()
    .int()
    .min(0, 'lobbyAdmitAfterMs must be 0 or more milliseconds, or null to admit only on request')
    .nullable()
    .optional(),
  decliningIdentityIds: z
    .array(z.string().trim().min(1, 'decliningIdentityIds entries must be non-empty ids'))
    .optional(),
  ringingIdentityIds: z
    .array(z.string().trim().min(1, 'ringingIdentityIds entries must be non-empty ids'))
    .optional(),
});
export type FlowSettingsPatch = z.infer<typeof flowSettingsPatchSchema>;

/** Validates a patch and returns the merged flow settings; throws naming every bad field. */
export function mergeFlowSettings(current: FlowSettings, patch: unknown): FlowSettings {
  const parsed = flowSettingsPatchSchema.safeParse(patch ?? {});
  if (!parsed.success) {
    throw new SimulatorConfigError(`invalid simulator flow settings:\n${z.prettifyError(parsed.error)}`);
  }
  const { rosterMode, lobbyAdmitAfterMs, decliningIdentityIds, ringingIdentityIds } = parsed.data;
  return {
    rosterMode: rosterMode ?? current.rosterMode,
    lobbyAdmitAfterMs: lobbyAdmitAfterMs === undefined ? current.lobbyAdmitAfterMs : lobbyAdmitAfterMs,
    decliningIdentityIds: decliningIdentityIds ?? [...current.decliningIdentityIds],
    ringingIdentityIds: ringingIdentityIds ?? [...current.ringingIdentityIds],
  };
}

/** Whether a party with this identity id is set never to join. */
export function declines(settings: FlowSettings, identityId: string | undefined): boolean {
  if (!identityId) return false;
  const wanted = identityId.toLowerCase();
  return settings.decliningIdentityIds.some((id) => id.toLowerCase() === wanted);
}

/** Whether a party with this identity id is set to ring forever (never answer, never decline). */
export function ringsForever(settings: FlowSettings, identityId: string | undefined): boolean {
  if (!identityId) return false;
  const wanted = identityId.toLowerCase();
  return settings.ringingIdentityIds.some((id) => id.toLowerCase() === wanted);
}
