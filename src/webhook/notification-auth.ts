/**
 * Verifies the bearer JWT Graph puts on every notification POST (seed 000: `Authorization:
 * Bearer <TOKEN>` on each notification). For Teams calling bots the token is issued by Bot
 * Framework: `iss` https://api.botframework.com, `aud` the bot's app id, signed with a key from
 * the JWKS that Bot Framework's OpenID configuration names.
 */
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';

export interface NotificationAuthOptions {
  /** The JWKS holding the notification signing keys. Wins over openIdConfigurationUrl when both are set. */
  jwksUrl?: string;
  /**
   * An OpenID configuration whose `jwks_uri` names the JWKS. Bot Framework publishes
   * https://login.botframework.com/v1/.well-known/openidconfiguration.
   */
  openIdConfigurationUrl?: string;
  /** Accepted `iss` values, e.g. ['https://api.botframework.com']. */
  issuers: string[];
  /** The expected `aud`: the bot's app id. */
  audience: string;
  /** Allowed clock skew for exp/nbf. Default 300 (5 min). */
  clockToleranceSeconds?: number;
  /** When set, the token's `tid` claim must be one of these (case-insensitive). */
  allowedTenantIds?: string[];
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

/** Graph must get an answer within 5 s: the key fetch gets at most 2 s of that. */
const KEY_FETCH_TIMEOUT_MS = 2_000;

export function createNotificationVerifier(options: NotificationAuthOptions): NotificationVerifier {
  if (!options.jwksUrl && !options.openIdConfigurationUrl) {
    throw new Error(
      'notification auth needs jwksUrl or openIdConfigurationUrl (Bot Framework: https://login.botframework.com/v1/.well-known/openidconfiguration)',
    );
  }
  if (options.issuers.length === 0) throw new Error('notification auth needs at least one accepted issuer');
  if (!options.audience) throw new Error("notification auth needs an audience: the bot's app id");
  const clockTolerance = options.clockToleranceSeconds ?? 300;
  const allowedTenants = options.allowedTenantIds?.map((tenant) => tenant.toLowerCase());
  const keys = keyResolver(options);

  return async (authorizationHeader) => {
    const token = bearerToken(authorizationHeader);
    let keyId: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      keyId = header.kid;
    } catch (error) {
      throw new NotificationAuthError('malformed', 'the bearer token is not a JWT', { cause: error });
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await keys(), {
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
    if (allowedTenants && !(tenantId && allowedTenants.includes(tenantId.toLowerCase()))) {
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
  };
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

/**
 * The JWKS, resolved once. With an OpenID configuration its `jwks_uri` is fetched on first use;
 * a failed fetch is not remembered, so the next notification tries again.
 */
function keyResolver(options: NotificationAuthOptions): () => Promise<JWTVerifyGetKey> {
  const remote = (url: string) =>
    createRemoteJWKSet(new URL(url), { timeoutDuration: KEY_FETCH_TIMEOUT_MS, cooldownDuration: 30_000 });
  if (options.jwksUrl) {
    const jwks = remote(options.jwksUrl);
    return async () => jwks;
  }
  const configurationUrl = options.openIdConfigurationUrl ?? '';
  let pending: Promise<JWTVerifyGetKey> | undefined;
  return () => {
    pending ??= jwksFromOpenIdConfiguration(configurationUrl, remote).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

async function jwksFromOpenIdConfiguration(
  configurationUrl: string,
  remote: (url: string) => JWTVerifyGetKey,
): Promise<JWTVerifyGetKey> {
  let jwksUri: unknown;
  try {
    const response = await fetch(configurationUrl, { signal: AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    jwksUri = ((await response.json()) as { jwks_uri?: unknown }).jwks_uri;
  } catch (error) {
    throw new NotificationAuthError(
      'keys_unavailable',
      `could not read the OpenID configuration ${configurationUrl}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) {
    throw new NotificationAuthError(
      'keys_unavailable',
      `the OpenID configuration ${configurationUrl} has no valid jwks_uri`,
    );
  }
  return remote(jwksUri);
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
