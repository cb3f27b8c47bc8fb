/**
 * Tokens that passed full verification (signature, algorithm, issuer, audience, tenant), kept so
 * that the next notification carrying the very same token skips the RSA check (issue 12: ≈0.18 ms
 * of CPU per request). Graph reuses one token for many notifications during its lifetime.
 *
 * What keeps it from weakening verification:
 * - the key is the whole token string, compared exactly (a Map lookup): a token that shares a
 *   prefix, a header or a payload with a cached one but differs anywhere, its signature included,
 *   is a miss and gets the full verification;
 * - an entry is only written after a verification succeeded, never for a refused token;
 * - an entry is never used at or after its token's `exp` (no clock tolerance: jose's tolerance
 *   applies to the full verification only);
 * - an entry remembers the key set it was verified against: once the signing keys are refetched
 *   (rotation, the periodic refresh) older entries are misses and verify again;
 * - at most `maxEntries` entries: the oldest goes first, so a flood of distinct valid tokens
 *   costs bounded memory.
 */
import type { VerifiedToken } from './notification-auth.js';

/** Default NOTIFICATION_TOKEN_CACHE_SIZE: far more tokens than Graph has live at once. */
export const DEFAULT_TOKEN_CACHE_SIZE = 1_000;

interface CachedToken {
  verified: VerifiedToken;
  /** `exp` in ms: the entry is used only before it. */
  expiresAtMs: number;
  /** The key set generation it was verified against. */
  keySet: number;
}

export interface VerifiedTokenCache {
  /** The verified token, if `token` was verified against `keySet` and has not expired at `nowMs`. */
  get(token: string, keySet: number, nowMs: number): VerifiedToken | undefined;
  /** Records a token that has just passed full verification. */
  remember(token: string, verified: VerifiedToken, keySet: number, nowMs: number): void;
  readonly size: number;
}

export function createVerifiedTokenCache(maxEntries: number): VerifiedTokenCache {
  if (!Number.isInteger(maxEntries) || maxEntries < 0) {
    throw new Error(`the verified token cache size must be a whole number ≥ 0, got ${maxEntries}`);
  }
  const entries = new Map<string, CachedToken>();
  return {
    get(token, keySet, nowMs) {
      const entry = entries.get(token);
      if (!entry) return undefined;
      if (nowMs >= entry.expiresAtMs || entry.keySet !== keySet) {
        entries.delete(token);
        return undefined;
      }
      return entry.verified;
    },
    remember(token, verified, keySet, nowMs) {
      const expiresAtMs = verified.expiresAt.getTime();
      // A token inside jose's clock tolerance past its exp verifies, but is not kept.
      if (maxEntries === 0 || !(expiresAtMs > nowMs)) return;
      entries.delete(token);
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
      entries.set(token, { verified, expiresAtMs, keySet });
    },
    get size() {
      return entries.size;
    },
  };
}
