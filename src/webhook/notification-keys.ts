/**
 * The keys that sign Graph's calling notifications, fetched when the webhook starts (issue 9.1,
 * 10.7): not on the first notification, which must be answered within Graph's 5 s. Microsoft
 * publishes them through the OpenID configuration at
 * https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration (design.md, "Known traps").
 *
 * When they cannot be fetched at start the webhook keeps serving: notifications get 503 +
 * Retry-After (Graph retries them) while a background loop tries again, with backoff, until the
 * keys arrive. Once fetched, a token with a key id not in the set triggers one refetch (key
 * rotation; at most every 30 s), and the set is refreshed in the background every few hours.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';

export interface NotificationKeySource {
  /** The JWKS holding the signing keys. Wins over openIdConfigurationUrl when both are set. */
  jwksUrl?: string;
  /** An OpenID configuration whose `jwks_uri` names the JWKS. */
  openIdConfigurationUrl?: string;
}

/** The subset of a pino/fastify logger this module writes to. */
export interface KeyLog {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface NotificationKeys {
  /**
   * The key resolver to verify with, or undefined while no key set has been fetched yet (the
   * caller answers 503 then).
   */
  resolver(): JWTVerifyGetKey | undefined;
  /** Whether a key set has been fetched: the webhook is not ready for notifications before. */
  loaded(): boolean;
  /**
   * Counts the key sets fetched so far by start() and the background refresh: tokens verified
   * against an older set are verified again (verified-token-cache.ts).
   */
  generation?(): number;
  /**
   * Makes the first fetch and logs how many keys it got; on failure logs why and keeps retrying in
   * the background. Resolves after the first attempt either way: the server starts regardless.
   */
  start(log: KeyLog): Promise<void>;
  /** Stops the background retries and refreshes. */
  stop(): void;
}

/** Graph must get an answer within 5 s; a key fetch on the request path gets at most 2 s of it. */
const KEY_FETCH_TIMEOUT_MS = 2_000;
/** A missing key id refetches the set at most this often (jose's cooldown). */
const UNKNOWN_KEY_COOLDOWN_MS = 30_000;
/** Background refresh of a key set that works, so rotated keys are there before they are used. */
const REFRESH_INTERVAL_MS = 6 * 60 * 60 * 1000;
const FIRST_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 30_000;

export function createNotificationKeys(source: NotificationKeySource): NotificationKeys {
  if (!source.jwksUrl && !source.openIdConfigurationUrl) {
    throw new Error(
      'notification auth needs jwksUrl or openIdConfigurationUrl (calling notifications: https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration)',
    );
  }
  let remote: ReturnType<typeof createRemoteJWKSet> | undefined;
  let ready: JWTVerifyGetKey | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  /** Successful fetches: the start's, every background refresh's. */
  let generation = 0;

  async function fetchOnce(): Promise<{ jwksUri: string; keyCount: number }> {
    const jwksUri = source.jwksUrl ?? (await jwksUriFrom(source.openIdConfigurationUrl ?? ''));
    // Cached without expiry: the background refresh and unknown key ids reload it, so a verify
    // never waits on Microsoft's key server for keys it already has.
    remote ??= createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: KEY_FETCH_TIMEOUT_MS,
      cooldownDuration: UNKNOWN_KEY_COOLDOWN_MS,
      cacheMaxAge: Number.POSITIVE_INFINITY,
    });
    await remote.reload();
    const keyCount = remote.jwks()?.keys.length ?? 0;
    if (keyCount === 0) throw new Error(`the JWKS at ${jwksUri} lists no keys`);
    return { jwksUri, keyCount };
  }

  function schedule(log: KeyLog, delayMs: number, attempt: number): void {
    if (stopped) return;
    timer = setTimeout(() => void tryFetch(log, attempt), delayMs);
    timer.unref();
  }

  async function tryFetch(log: KeyLog, attempt: number): Promise<void> {
    try {
      const { jwksUri, keyCount } = await fetchOnce();
      const refresh = ready !== undefined;
      ready = remote;
      generation++;
      log.info(
        { jwksUri, keys: keyCount, attempt },
        refresh
          ? `notification signing keys refreshed: ${keyCount} keys`
          : `notification signing keys fetched: ${keyCount} keys`,
      );
      schedule(log, REFRESH_INTERVAL_MS, 1);
    } catch (error) {
      const delayMs = Math.min(FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
      log.error(
        {
          err: error,
          source: source.jwksUrl ?? source.openIdConfigurationUrl,
          attempt,
          retryInMs: delayMs,
        },
        ready
          ? 'could not refresh the notification signing keys; the keys fetched before stay in use'
          : 'could not fetch the notification signing keys: notifications are answered 503 until they arrive',
      );
      schedule(log, delayMs, attempt + 1);
    }
  }

  return {
    resolver: () => ready,
    loaded: () => ready !== undefined,
    generation: () => generation,
    async start(log) {
      stopped = false;
      await tryFetch(log, 1);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

async function jwksUriFrom(configurationUrl: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(configurationUrl, { signal: AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS) });
  } catch (error) {
    throw new Error(
      `could not read the OpenID configuration ${configurationUrl}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (!response.ok) {
    throw new Error(`the OpenID configuration ${configurationUrl} answered HTTP ${response.status}`);
  }
  const jwksUri = ((await response.json().catch(() => ({}))) as { jwks_uri?: unknown }).jwks_uri;
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) {
    throw new Error(`the OpenID configuration ${configurationUrl} has no valid jwks_uri`);
  }
  return jwksUri;
}
