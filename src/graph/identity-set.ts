/**
 * What an identitySet stands for: plain functions over the types of src/graph/identity.ts, with no
 * runtime import. Workflow code uses them (routeCall), and importing the zod schemas there would put
 * zod into the workflow bundle, which every workflow evaluates on its own (docs/performance.md, row 5).
 */
import type { IdentitySet } from './identity.js';

export const identityKinds = [
  'user',
  'application',
  'applicationInstance',
  'phone',
  'guest',
  'device',
] as const;
export type IdentityKind = (typeof identityKinds)[number];

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

export function describeIdentity(identitySet: IdentitySet | null | undefined): string {
  const identity = primaryIdentity(identitySet);
  if (!identity) return 'unknown party';
  return `${identity.kind} ${identity.displayName ? `${identity.displayName} ` : ''}(${identity.id})`;
}
