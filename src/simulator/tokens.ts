import { randomUUID } from 'node:crypto';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeJwt,
  errors,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { GraphError, OAuthError } from './errors.js';

/** The audience of access tokens for Microsoft Graph (the resource's application ID URI). */
export const GRAPH_AUDIENCE = 'https://graph.microsoft.com';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const ACCEPTED_SCOPES = new Set([`${GRAPH_AUDIENCE}/.default`, `${GRAPH_APP_ID}/.default`]);
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Application permissions a calling bot holds; carried in the token's `roles` like Entra ID does. */
export const CALLING_ROLES = [
  'Calls.Initiate.All',
  'Calls.InitiateGroupCall.All',
  'Calls.JoinGroupCall.All',
  'Calls.JoinGroupCallAsGuest.All',
  'Calls.AccessMedia.All',
];

/** How long a notification token is valid, as Bot Framework tokens are checked (iat/nbf/exp). */
const NOTIFICATION_TOKEN_SECONDS = 5 * 60;

export interface TokenConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  botAppId: string;
  /** `iss` of notification JWTs. */
  notificationIssuer: string;
  /** `iss` of access tokens (Graph accepts v1 tokens: `https://sts.windows.net/{tenant}/`). */
  accessTokenIssuer: string;
  accessTokenLifetimeSeconds: number;
}

export interface AccessTokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
}

export interface TokenService {
  readonly config: TokenConfig;
  /** Public keys that sign access tokens (served as the tenant's JWKS). */
  readonly accessTokenJwks: JSONWebKeySet;
  /** Public keys that sign notification tokens (served like Bot Framework's keys). */
  readonly notificationJwks: JSONWebKeySet;
  readonly tokensIssued: number;
  /**
   * Runs a client_credentials token request (form fields as posted) the way Entra ID checks it
   * and returns the token response; throws OAuthError naming what is wrong.
   */
  exchangeClientCredentials(tenant: string, form: Record<string, string>): Promise<AccessTokenResponse>;
  /** Checks an `Authorization` header for a Graph API request; throws a 401 GraphError otherwise. */
  verifyBearer(authorization: string | undefined): Promise<JWTPayload>;
  /** A fresh JWT for one notification POST. */
  signNotificationToken(): Promise<string>;
}

interface SigningKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
}

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, kid, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

export async function createTokenService(config: TokenConfig): Promise<TokenService> {
  const [accessKey, notificationKey] = await Promise.all([createSigningKey(), createSigningKey()]);
  const accessTokenJwks: JSONWebKeySet = { keys: [accessKey.publicJwk] };
  // Bot Framework's key set says which channels may use each key; Teams calling is "msteams".
  const notificationJwks: JSONWebKeySet = {
    keys: [{ ...notificationKey.publicJwk, endorsements: ['msteams'] } as JWK],
  };
  const accessKeys = createLocalJWKSet(accessTokenJwks);
  let tokensIssued = 0;

  function authenticateClient(tenant: string, form: Record<string, string>): void {
    if (tenant.toLowerCase() !== config.tenantId.toLowerCase()) {
      throw new OAuthError(
        400,
        'invalid_tenant',
        90002,
        `Tenant '${tenant}' not found. This simulator serves tenant ${config.tenantId}.`,
      );
    }
    if (form.grant_type !== 'client_credentials') {
      throw new OAuthError(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${form.grant_type ?? ''}'; the simulator supports client_credentials only.`,
      );
    }
    const clientId = form.client_id;
    if (!clientId) {
      throw new OAuthError(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
    }
    if (clientId.toLowerCase() !== config.clientId.toLowerCase()) {
      throw new OAuthError(
        401,
        'invalid_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${config.tenantId}'.`,
      );
    }
    if (form.client_secret !== undefined) {
      if (form.client_secret !== config.clientSecret) {
        throw new OAuthError(
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${config.clientId}'.`,
        );
      }
      return;
    }
    if (form.client_assertion !== undefined) {
      checkClientAssertion(form, config.clientId);
      return;
    }
    throw new OAuthError(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }

  return {
    config,
    accessTokenJwks,
    notificationJwks,
    get tokensIssued() {
      return tokensIssued;
    },

    async exchangeClientCredentials(tenant, form) {
      authenticateClient(tenant, form);
      const scopes = (form.scope ?? '').split(/\s+/).filter(Boolean);
      if (!scopes.some((scope) => ACCEPTED_SCOPES.has(scope.toLowerCase()))) {
        throw new OAuthError(
          400,
          'invalid_scope',
          1002012,
          `The provided value for scope '${form.scope ?? ''}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier, here ${GRAPH_AUDIENCE}/.default.`,
        );
      }
      const now = Math.floor(Date.now() / 1000);
      const accessToken = await new SignJWT({
        tid: config.tenantId,
        appid: config.clientId,
        azp: config.clientId,
        appidacr: form.client_secret !== undefined ? '1' : '2',
        idtyp: 'app',
        oid: config.clientId,
        roles: CALLING_ROLES,
        uti: randomUUID(),
        ver: '1.0',
      })
        .setProtectedHeader({ alg: 'RS256', kid: accessKey.kid, typ: 'JWT' })
        .setIssuer(config.accessTokenIssuer)
        .setAudience(GRAPH_AUDIENCE)
        .setSubject(config.clientId)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + config.accessTokenLifetimeSeconds)
        .sign(accessKey.privateKey);
      tokensIssued += 1;
      return {
        token_type: 'Bearer',
        expires_in: config.accessTokenLifetimeSeconds,
        ext_expires_in: config.accessTokenLifetimeSeconds,
        access_token: accessToken,
      };
    },

    async verifyBearer(authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '');
      if (!match?.[1]) {
        throw new GraphError(
          401,
          authorization
            ? 'Access token is malformed: expected "Authorization: Bearer <token>".'
            : 'Access token is empty.',
        );
      }
      try {
        const { payload } = await jwtVerify(match[1], accessKeys, {
          issuer: config.accessTokenIssuer,
          audience: GRAPH_AUDIENCE,
          algorithms: ['RS256'],
        });
        return payload;
      } catch (error) {
        if (error instanceof errors.JWTExpired) {
          throw new GraphError(401, 'Lifetime validation failed, the token is expired.');
        }
        const reason = error instanceof Error ? error.message : String(error);
        throw new GraphError(
          401,
          `Access token validation failure: ${reason}. Get a token from this simulator's token endpoint.`,
        );
      }
    },

    async signNotificationToken() {
      const now = Math.floor(Date.now() / 1000);
      // `tid`: the tenant the notification comes from, which the bot checks (Graph comms samples).
      return new SignJWT({ tid: config.tenantId })
        .setProtectedHeader({ alg: 'RS256', kid: notificationKey.kid, typ: 'JWT' })
        .setIssuer(config.notificationIssuer)
        .setAudience(config.botAppId)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + NOTIFICATION_TOKEN_SECONDS)
        .sign(notificationKey.privateKey);
    },
  };
}

/**
 * Certificate credentials: MSAL posts a JWT signed with the app's certificate. The simulator has
 * no certificate registered, so it checks the claims Entra ID checks (iss = sub = client id, not
 * expired) but not the signature.
 */
function checkClientAssertion(form: Record<string, string>, clientId: string): void {
  if (form.client_assertion_type !== JWT_BEARER_ASSERTION) {
    throw new OAuthError(
      400,
      'invalid_request',
      900144,
      `client_assertion_type must be '${JWT_BEARER_ASSERTION}'.`,
    );
  }
  let claims: JWTPayload;
  try {
    claims = decodeJwt(form.client_assertion ?? '');
  } catch {
    throw new OAuthError(401, 'invalid_client', 700027, 'Client assertion is not a valid JWT.');
  }
  const sameClient = (value: unknown) =>
    typeof value === 'string' && value.toLowerCase() === clientId.toLowerCase();
  if (!sameClient(claims.iss) || !sameClient(claims.sub)) {
    throw new OAuthError(
      401,
      'invalid_client',
      700021,
      `Client assertion iss and sub must both be the client id '${clientId}'.`,
    );
  }
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) {
    throw new OAuthError(
      401,
      'invalid_client',
      700024,
      'Client assertion is not within its valid time range.',
    );
  }
}
