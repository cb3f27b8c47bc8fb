import { z } from 'zod';

/** microsoft.graph.identity: every member is optional and may be null on the wire (seed 003). */
export const identitySchema = z.looseObject({
  '@odata.type': z.string().optional(),
  id: z.string().nullish(),
  displayName: z.string().nullish(),
  tenantId: z.string().nullish(),
  identityProvider: z.string().nullish(),
});
export type Identity = z.infer<typeof identitySchema>;

export const identityKinds = [
  'user',
  'application',
  'applicationInstance',
  'phone',
  'guest',
  'device',
] as const;
export type IdentityKind = (typeof identityKinds)[number];

/**
 * microsoft.graph.identitySet. Responses spell out absent members as null (seed 003:
 * `"application": null, "device": null, "phone": null`).
 */
export const identitySetSchema = z.looseObject({
  '@odata.type': z.string().optional(),
  user: identitySchema.nullish(),
  application: identitySchema.nullish(),
  applicationInstance: identitySchema.nullish(),
  phone: identitySchema.nullish(),
  guest: identitySchema.nullish(),
  device: identitySchema.nullish(),
  encrypted: identitySchema.nullish(),
  onPremises: identitySchema.nullish(),
});
export type IdentitySet = z.infer<typeof identitySetSchema>;

/** The one identity an identitySet stands for, flattened for comparisons and summaries. */
export interface PrimaryIdentity {
  kind: IdentityKind;
  id: string;
  displayName?: string;
  tenantId?: string;
}

export function primaryIdentity(identitySet: IdentitySet | null | undefined): PrimaryIdentity | undefined {
  if (!identitySet) return undefined;
  for (const kind of identityKinds) {
    const identity = identitySet[kind];
    if (identity?.id) {
      return {
        kind,
        id: identity.id,
        ...(identity.displayName ? { displayName: identity.displayName } : {}),
        ...(identity.tenantId ? { tenantId: identity.tenantId } : {}),
      };
    }
  }
  return undefined;
}

/**
 * Whether two identity sets name the same party. Compares ids only, case-insensitively: the
 * participant-invite page (seed 003, examples 1 and 2) invites a `user` that the roster then
 * reports as an `application` with the same id, so the kind is not reliable.
 */
export function sameParty(a: IdentitySet | null | undefined, b: IdentitySet | null | undefined): boolean {
  const left = primaryIdentity(a);
  const right = primaryIdentity(b);
  return left !== undefined && right !== undefined && left.id.toLowerCase() === right.id.toLowerCase();
}

/** E.164: a plus sign and 1 to 15 digits, the first not zero (participant-invite example 4). */
export const e164Schema = z
  .string()
  .regex(/^\+[1-9]\d{1,14}$/, 'phone id must be an E.164 number such as +12345678901');

export function describeIdentity(identitySet: IdentitySet | null | undefined): string {
  const identity = primaryIdentity(identitySet);
  if (!identity) return 'unknown party';
  return `${identity.kind} ${identity.displayName ? `${identity.displayName} ` : ''}(${identity.id})`;
}
