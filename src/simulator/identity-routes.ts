import type { FastifyInstance, FastifyReply } from 'fastify';
import { botFrameworkEndpoints, originOf, tenantEndpoints } from './connection.js';
import { OAuthError, oauthErrorBody } from './errors.js';
import type { FaultInjector } from './faults.js';
import type { TokenService } from './tokens.js';

export interface IdentityRoutesDeps {
  tokens: TokenService;
  faults: FaultInjector;
}

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/**
 * The token endpoint and key documents: an Entra ID tenant for the bot's client credentials,
 * and Bot Framework's OpenID configuration for verifying notification JWTs.
 */
export async function identityRoutes(app: FastifyInstance, deps: IdentityRoutesDeps): Promise<void> {
  const { tokens, faults } = deps;
  const { tenantId } = tokens.config;

  function checkTenant(tenant: string): void {
    if (tenant.toLowerCase() !== tenantId.toLowerCase()) {
      throw new OAuthError(
        400,
        'invalid_tenant',
        90002,
        `Tenant '${tenant}' not found. This simulator serves tenant ${tenantId}.`,
      );
    }
  }

  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/token', async (request, reply) => {
    const fault = faults.next({
      method: request.method,
      path: request.url.split('?')[0] ?? '',
      graph: false,
    });
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.status !== undefined) return sendTokenFault(reply, fault.status, fault.retryAfterSeconds);
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.toLowerCase().startsWith(FORM_CONTENT_TYPE)) {
      throw new OAuthError(
        400,
        'invalid_request',
        900144,
        `The token request body must be ${FORM_CONTENT_TYPE} (got '${contentType || 'no content type'}').`,
      );
    }
    const form = (request.body ?? {}) as Record<string, string>;
    const response = await tokens.exchangeClientCredentials(request.params.tenant, form);
    reply.header('cache-control', 'no-store, no-cache').header('pragma', 'no-cache');
    return response;
  });

  app.get<{ Params: { tenant: string } }>(
    '/:tenant/v2.0/.well-known/openid-configuration',
    async (request) => {
      checkTenant(request.params.tenant);
      const endpoints = tenantEndpoints(originOf(request), tenantId);
      return {
        issuer: tokens.config.accessTokenIssuer,
        token_endpoint: endpoints.tokenEndpoint,
        authorization_endpoint: endpoints.authorizationEndpoint,
        jwks_uri: endpoints.jwksUri,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        tenant_region_scope: 'NA',
      };
    },
  );

  app.get<{ Params: { tenant: string } }>('/:tenant/discovery/v2.0/keys', async (request) => {
    checkTenant(request.params.tenant);
    return tokens.accessTokenJwks;
  });

  app.get('/botframework/v1/.well-known/openidconfiguration', async (request) => {
    const endpoints = botFrameworkEndpoints(originOf(request));
    return {
      issuer: tokens.config.notificationIssuer,
      authorization_endpoint: `${originOf(request)}/botframework/v1/oauth/authorize`,
      jwks_uri: endpoints.jwksUri,
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
    };
  });

  app.get('/botframework/v1/.well-known/keys', async () => tokens.notificationJwks);
}

function sendTokenFault(reply: FastifyReply, status: number, retryAfterSeconds: number | undefined) {
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
  const throttled = status === 429;
  return reply
    .code(status)
    .send(
      oauthErrorBody(
        throttled ? 'invalid_request' : 'temporarily_unavailable',
        throttled
          ? 'The request was throttled (simulated fault). Retry after the Retry-After interval.'
          : `The token service is unavailable (simulated ${status} fault). Retry later.`,
        throttled ? 90055 : 50196,
      ),
    );
}
