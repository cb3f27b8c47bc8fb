/**
 * Verifies the bearer JWT Graph puts on every notification POST (seed 000: `Authorization:
 * Bearer <TOKEN>` on each notification), as the Graph comms samples' AuthenticationProvider does:
 * signed with a key of the calling OpenID configuration
 * (https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration), `iss` https://api.botframework.com
 * or https://graph.microsoft.com, `aud` the bot's app id, and a `tid` of an allowed tenant.
 *
 * Why a token was refused is the operator's business, not the caller's: the route logs the
 * reason and answers a bare "refused" (issue 9.6).
 */
import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import {
  createNotificationKeys,
  type NotificationKeySource,
  type NotificationKeys,
} from './notification-keys.js';
import { createVerifiedTokenCache, DEFAULT_TOKEN_CACHE_SIZE } from './verified-token-cache.js';

/** Microsoft's OpenID configuration for calling notifications (Teams "incoming call notifications"). */
export const CALLING_OPENID_CONFIGURATION_URL =
  'https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration';
/** The issuers of calling notification tokens the Graph comms samples accept. */
export const CALLING_NOTIFICATION_ISSUERS = ['https://api.botframework.com', 'https://graph.microsoft.com'];

export interface NotificationAuthOptions extends NotificationKeySource {
  /** Accepted `iss` values, e.g. CALLING_NOTIFICATION_ISSUERS. */
  issuers: string[];
  /** The expected `aud`: the bot's app id. */
  audience: string;
  /** Allowed clock skew for exp/nbf. Default 300 (5 min). */
  clockToleranceSeconds?: number;
  /**
   * The tenants (`tid`) whose notifications are accepted (case-insensitive), or 'any' for a
   * multi-tenant bot that takes calls from every tenant. Required: no default that opens it.
   */
  allowedTenants: readonly string[] | 'any';
  /**
   * NOTIFICATION_TOKEN_CACHE_SIZE: how many fully verified tokens are remembered until their `exp`
   * (verified-token-cache.ts); 0 verifies every request in full. Default 1000.
   */
  tokenCacheSize?: number;
  /** The clock of the token cache's expiry checks; tests move it. Default Date.now. */
  now?: () => number;
}

export interface VerifiedToken {
  issuer: string;
  audience: string;
  subject?: string;
  tenantId?: string;
  keyId?: string;
  expiresAt: Date;
  claims: JWTPayload;
}

/** Why a notification's token was refused. `keys_unavailable` is ours, not the caller's, fault. */
export type NotificationAuthFailure =
  | 'missing'
  | 'malformed'
  | 'algorithm_not_allowed'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'unknown_key_id'
  | 'tenant_not_allowed'
  | 'keys_unavailable';

export class NotificationAuthError extends Error {
  override readonly name = 'NotificationAuthError';
  constructor(
    readonly reason: NotificationAuthFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /**
   * 401 for a token the caller got wrong; 503 when we could not fetch the signing keys, so that
   * Graph retries instead of dropping the notification.
   */
  get statusCode(): 401 | 503 {
    return this.reason === 'keys_unavailable' ? 503 : 401;
  }
}

export type NotificationVerifier = (authorizationHeader: string | undefined) => Promise<VerifiedToken>;

/**
 * Asymmetric algorithms only: `alg: none` and HS256 signed with the (public) RSA key as an HMAC
 * secret are refused before any key is looked at. Bot Framework signs with RS256.
 */
export const notificationTokenAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256'] as const;

/**
 * A verifier over `keys`, which the caller starts (the webhook does on ready). Until they have
 * been fetched every token is refused with `keys_unavailable` (503), without a fetch on the
 * request path.
 */
export function createNotificationVerifier(
  options: NotificationAuthOptions,
  keys: NotificationKeys = createNotificationKeys(options),
): NotificationVerifier {
  if (options.issuers.length === 0) throw new Error('notification auth needs at least one accepted issuer');
  if (!options.audience) throw new Error("notification auth needs an audience: the bot's app id");
  if (options.allowedTenants !== 'any' && options.allowedTenants.length === 0) {
    throw new Error("notification auth needs allowed tenants (tenant ids, or 'any')");
  }
  const clockTolerance = options.clockToleranceSeconds ?? 300;
  const allowedTenants =
    options.allowedTenants === 'any' ? 'any' : options.allowedTenants.map((tenant) => tenant.toLowerCase());
  const cache = createVerifiedTokenCache(options.tokenCacheSize ?? DEFAULT_TOKEN_CACHE_SIZE);
  const now = options.now ?? Date.now;

  return async (authorizationHeader) => {
    const token = bearerToken(authorizationHeader);
    // Only a token that passed every check below is in the cache, keyed by the whole token.
    const keySet = keys.generation?.() ?? 0;
    const cached = cache.get(token, keySet, now());
    if (cached) return cached;
    const verified = await verifyInFull(token);
    cache.remember(token, verified, keySet, now());
    return verified;
  };

  async function verifyInFull(token: string): Promise<VerifiedToken> {
    let keyId: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      keyId = header.kid;
    } catch (error) {
      throw new NotificationAuthError('malformed', 'the bearer token is not a JWT', { cause: error });
    }
    const resolver = keys.resolver();
    if (!resolver) {
      throw new NotificationAuthError(
        'keys_unavailable',
        'the notification signing keys have not been fetched yet (see the key fetch errors in the log)',
      );
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, resolver, {
        algorithms: [...notificationTokenAlgorithms],
        issuer: options.issuers,
        audience: options.audience,
        clockTolerance,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw authErrorFrom(error, options, keyId);
    }
    const tenantId = typeof payload.tid === 'string' ? payload.tid : undefined;
    if (allowedTenants !== 'any' && !(tenantId && allowedTenants.includes(tenantId.toLowerCase()))) {
      throw new NotificationAuthError(
        'tenant_not_allowed',
        tenantId
          ? `the token's tenant ${tenantId} is not one of the allowed tenants`
          : 'the token carries no tid claim, and only notifications from allowed tenants are accepted',
      );
    }
    return {
      issuer: payload.iss ?? '',
      audience: options.audience,
      ...(payload.sub ? { subject: payload.sub } : {}),
      ...(tenantId ? { tenantId } : {}),
      ...(keyId ? { keyId } : {}),
      expiresAt: new Date((payload.exp ?? 0) * 1000),
      claims: payload,
    };
  }
}

function bearerToken(authorizationHeader: string | undefined): string {
  if (!authorizationHeader?.trim()) {
    throw new NotificationAuthError(
      'missing',
      'the Authorization header is missing: Graph signs every notification',
    );
  }
  const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i.exec(authorizationHeader);
  if (!match?.[1]) {
    throw new NotificationAuthError('malformed', 'the Authorization header must be "Bearer <JWT>"');
  }
  return match[1];
}

function authErrorFrom(error: unknown, options: NotificationAuthOptions, keyId: string | undefined): Error {
  if (error instanceof NotificationAuthError) return error;
  if (error instanceof errors.JWTExpired) {
    return new NotificationAuthError('expired', 'the token has expired', { cause: error });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return new NotificationAuthError(
          'wrong_issuer',
          `the token's issuer is not one of ${options.issuers.join(', ')}`,
          { cause: error },
        );
      case 'aud':
        return new NotificationAuthError(
          'wrong_audience',
          `the token's audience is not this bot (${options.audience})`,
          { cause: error },
        );
      case 'nbf':
      case 'iat':
        return new NotificationAuthError(
          'not_yet_valid',
          'the token is not valid yet (nbf/iat in the future)',
          {
            cause: error,
          },
        );
      default:
        return new NotificationAuthError(
          'malformed',
          `the token's ${error.claim} claim is invalid: ${error.reason}`,
          {
            cause: error,
          },
        );
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new NotificationAuthError(
      'algorithm_not_allowed',
      `the token's signing algorithm is not allowed (accepted: ${notificationTokenAlgorithms.join(', ')})`,
      { cause: error },
    );
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new NotificationAuthError('bad_signature', 'the token signature does not verify', {
      cause: error,
    });
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new NotificationAuthError(
      'unknown_key_id',
      `no published signing key matches the token's key id ${keyId ?? '(none)'}`,
      { cause: error },
    );
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new NotificationAuthError('malformed', `the token is malformed: ${error.message}`, {
      cause: error,
    });
  }
  // Everything else comes from fetching the JWKS (network error, timeout, non-200, bad JSON).
  return new NotificationAuthError(
    'keys_unavailable',
    `could not fetch the notification signing keys: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}
