// The cache of verified notification tokens (issue 12): it saves the RSA check for a token seen
// before, and must not accept anything full verification would refuse. Real jose, real keys served
// over HTTP; a key source that counts how often the verifier asks for its keys tells a cache hit
// (no key lookup) from a full verification.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNotificationKeys,
  createNotificationVerifier,
  NotificationAuthError,
  type NotificationAuthOptions,
  type NotificationKeys,
  type VerifiedToken,
} from '../src/webhook/index.js';
import { createVerifiedTokenCache } from '../src/webhook/verified-token-cache.js';
import {
  createSigningKey,
  forgeToken,
  type KeyServer,
  startKeyServer,
  type TestSigningKey,
} from './support/webhook-fixtures.js';

const ISSUER = 'https://api.botframework.com';
const AUDIENCE = 'bot-app-id-for-cache-tests';
const TENANT = 'b2b2b2b2-0000-4000-8000-000000000001';
const claims = { issuer: ISSUER, audience: AUDIENCE, tenantId: TENANT };

let key: TestSigningKey;
let otherKey: TestSigningKey;
let keyServer: KeyServer;

beforeAll(async () => {
  key = await createSigningKey('cache-key-1');
  // Same kid, other private key: what an attacker who copies a real token's header can sign with.
  otherKey = { ...(await createSigningKey('cache-key-1')) };
  keyServer = await startKeyServer([key.publicJwk]);
});

afterAll(async () => {
  await keyServer?.stop();
});

interface CountingKeys extends NotificationKeys {
  /** How many verifications asked for the key resolver: full verifications, not cache hits. */
  lookups: number;
  /** Pretends a background refresh fetched a new key set. */
  refresh(): void;
}

async function countingKeys(options: NotificationAuthOptions): Promise<CountingKeys> {
  const keys = createNotificationKeys(options);
  await keys.start({ info: () => undefined, error: () => undefined });
  keys.stop();
  let extraGenerations = 0;
  const counting: CountingKeys = {
    ...keys,
    lookups: 0,
    resolver() {
      counting.lookups++;
      return keys.resolver();
    },
    generation: () => (keys.generation?.() ?? 0) + extraGenerations,
    refresh() {
      extraGenerations++;
    },
  };
  return counting;
}

function options(overrides: Partial<NotificationAuthOptions> = {}): NotificationAuthOptions {
  return {
    jwksUrl: keyServer.jwksUrl,
    issuers: [ISSUER],
    audience: AUDIENCE,
    allowedTenants: [TENANT],
    ...overrides,
  };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(NotificationAuthError);
  return (error as NotificationAuthError).reason;
}

describe('verified notification token cache', () => {
  it('verifies a token once, then answers the same token from the cache', async () => {
    const keys = await countingKeys(options());
    const verify = createNotificationVerifier(options(), keys);
    const token = await forgeToken(key, claims);
    const first = await verify(`Bearer ${token}`);
    const second = await verify(`Bearer ${token}`);
    expect(second).toEqual(first);
    expect(second.tenantId).toBe(TENANT);
    expect(keys.lookups).toBe(1);
  });

  it('verifies every request in full when NOTIFICATION_TOKEN_CACHE_SIZE is 0', async () => {
    const keys = await countingKeys(options());
    const verify = createNotificationVerifier(options({ tokenCacheSize: 0 }), keys);
    const token = await forgeToken(key, claims);
    await verify(`Bearer ${token}`);
    await verify(`Bearer ${token}`);
    expect(keys.lookups).toBe(2);
  });

  it('never serves a token at or past its exp: it is refused as expired', async () => {
    const strict = options({ clockToleranceSeconds: 0 });
    const keys = await countingKeys(strict);
    const verify = createNotificationVerifier(strict, keys);
    const token = await forgeToken(key, { ...claims, expiresIn: 2 });
    await verify(`Bearer ${token}`);
    await verify(`Bearer ${token}`);
    expect(keys.lookups).toBe(1);
    const expiresAtMs = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()).exp * 1000;
    await sleep(expiresAtMs - Date.now() + 50);
    expect(await refusal(verify(`Bearer ${token}`))).toBe('expired');
    expect(keys.lookups).toBe(2);
  });

  it('drops an entry at its exp even where jose would still accept the token (clock tolerance)', async () => {
    let nowMs = Date.now();
    const keys = await countingKeys(options());
    const verify = createNotificationVerifier(options({ now: () => nowMs }), keys);
    const token = await forgeToken(key, { ...claims, expiresIn: 60 });
    await verify(`Bearer ${token}`);
    nowMs += 59_000;
    await verify(`Bearer ${token}`);
    expect(keys.lookups).toBe(1);
    nowMs += 1_000;
    // Past the cached exp: full verification again (here it passes, within jose's 300 s tolerance).
    await verify(`Bearer ${token}`);
    expect(keys.lookups).toBe(2);
  });

  it('does not accept a forged token that shares a prefix, a header or a payload with a cached one', async () => {
    const keys = await countingKeys(options());
    const verify = createNotificationVerifier(options(), keys);
    const token = await forgeToken(key, claims);
    await verify(`Bearer ${token}`);
    const [header, payload, signature] = token.split('.') as [string, string, string];

    // The cached token with its signature cut short, or one character of it changed.
    expect(await refusal(verify(`Bearer ${header}.${payload}.${signature.slice(0, -4)}`))).toBe(
      'bad_signature',
    );
    const flipped = signature.at(-2) === 'A' ? 'B' : 'A';
    const changed = `${header}.${payload}.${signature.slice(0, -2)}${flipped}${signature.at(-1)}`;
    expect(await refusal(verify(`Bearer ${changed}`))).toBe('bad_signature');
    // The same claims signed by another key under the cached token's kid.
    const forged = await forgeToken(otherKey, claims);
    expect(forged.split('.')[0]).toBe(header);
    expect(await refusal(verify(`Bearer ${forged}`))).toBe('bad_signature');
    // The cached token's header and payload with an empty signature.
    expect(await refusal(verify(`Bearer ${header}.${payload}.`))).not.toBeUndefined();

    // Each was verified in full, and the real token is still served from the cache.
    const lookups = keys.lookups;
    await verify(`Bearer ${token}`);
    expect(keys.lookups).toBe(lookups);
  });

  it('caches no refused token: each attempt is verified in full and refused again', async () => {
    const keys = await countingKeys(options());
    const verify = createNotificationVerifier(options(), keys);
    const otherTenant = await forgeToken(key, {
      ...claims,
      tenantId: 'c3c3c3c3-0000-4000-8000-000000000009',
    });
    const wrongAudience = await forgeToken(key, { ...claims, audience: 'someone-else' });
    for (let attempt = 0; attempt < 2; attempt++) {
      expect(await refusal(verify(`Bearer ${otherTenant}`))).toBe('tenant_not_allowed');
      expect(await refusal(verify(`Bearer ${wrongAudience}`))).toBe('wrong_audience');
    }
    expect(keys.lookups).toBe(4);
  });

  it('verifies again once the signing keys were refetched', async () => {
    const keys = await countingKeys(options());
    const verify = createNotificationVerifier(options(), keys);
    const token = await forgeToken(key, claims);
    await verify(`Bearer ${token}`);
    await verify(`Bearer ${token}`);
    keys.refresh();
    await verify(`Bearer ${token}`);
    expect(keys.lookups).toBe(2);
  });

  it('counts key sets: start() fetches generation 1', async () => {
    const keys = createNotificationKeys(options());
    expect(keys.generation?.()).toBe(0);
    await keys.start({ info: () => undefined, error: () => undefined });
    keys.stop();
    expect(keys.generation?.()).toBe(1);
  });

  it('holds at most its size, dropping the oldest entries first', () => {
    const cache = createVerifiedTokenCache(3);
    const nowMs = Date.now();
    const verified = (name: string): VerifiedToken => ({
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: name,
      expiresAt: new Date(nowMs + 60_000),
      claims: {},
    });
    for (const name of ['t1', 't2', 't3', 't4', 't5']) cache.remember(name, verified(name), 1, nowMs);
    expect(cache.size).toBe(3);
    expect(cache.get('t1', 1, nowMs)).toBeUndefined();
    expect(cache.get('t2', 1, nowMs)).toBeUndefined();
    expect(cache.get('t5', 1, nowMs)?.subject).toBe('t5');
    // An expired or already past-exp token is never stored.
    cache.remember('late', { ...verified('late'), expiresAt: new Date(nowMs - 1) }, 1, nowMs);
    expect(cache.get('late', 1, nowMs)).toBeUndefined();
    expect(() => createVerifiedTokenCache(-1)).toThrow(/whole number/);
  });
});
