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

/** E.164: a plus sign and 1 to 15 digits, the first not zero (participant-invite example 4). */
export const e164Schema = z
  .string()
  .regex(/^\+[1-9]\d{1,14}$/, 'phone id must be an E.164 number such as +12345678901');

export * from './identity-set.js';
