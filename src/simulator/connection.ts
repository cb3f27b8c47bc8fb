import type { FastifyRequest } from 'fastify';

/**
 * MSAL refuses http authorities, so it is given this https host (never contacted: it is in
 * knownAuthorities and authorityMetadata names every endpoint) — design.md, "Known traps".
 */
export const SIMULATOR_AUTHORITY_HOST = 'login.simulator.handoff.test';

/** Who the simulator's tenant and bot are; fixed for a run. */
export interface SimulatorIdentity {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  botAppId: string;
  notificationIssuer: string;
  accessTokenIssuer: string;
}

/** Everything a Graph client and a webhook need to use the simulator reached at one origin. */
export interface SimulatorConnection {
  url: string;
  graphBaseUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  botAppId: string;
  msal: { authority: string; knownAuthorities: string[]; authorityMetadata: string };
  notificationAuth: { jwksUrl: string; openIdConfigurationUrl: string; issuer: string; audience: string };
}

export function authorityFor(tenantId: string): string {
  return `https://${SIMULATOR_AUTHORITY_HOST}/${tenantId}`;
}

/** The Entra-like endpoints of the tenant; MSAL's authorityMetadata points here. */
export function tenantEndpoints(origin: string, tenantId: string) {
  const tenantBase = `${origin}/${tenantId}`;
  return {
    tokenEndpoint: `${tenantBase}/oauth2/v2.0/token`,
    authorizationEndpoint: `${tenantBase}/oauth2/v2.0/authorize`,
    jwksUri: `${tenantBase}/discovery/v2.0/keys`,
    openIdConfiguration: `${tenantBase}/v2.0/.well-known/openid-configuration`,
  };
}

/** Where the notification keys are published, shaped like login.botframework.com's. */
export function botFrameworkEndpoints(origin: string) {
  return {
    jwksUri: `${origin}/botframework/v1/.well-known/keys`,
    openIdConfiguration: `${origin}/botframework/v1/.well-known/openidconfiguration`,
  };
}

/**
 * The origin a client used to reach the simulator. URLs the simulator hands out (Location
 * headers, OpenID documents, GET /_simulator/connection) follow it, so that a container that
 * reaches it as http://simulator:4010 gets URLs it can use.
 */
export function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export function describeConnection(origin: string, identity: SimulatorIdentity): SimulatorConnection {
  const endpoints = tenantEndpoints(origin, identity.tenantId);
  const botFramework = botFrameworkEndpoints(origin);
  return {
    url: origin,
    graphBaseUrl: `${origin}/v1.0`,
    tenantId: identity.tenantId,
    clientId: identity.clientId,
    clientSecret: identity.clientSecret,
    botAppId: identity.botAppId,
    msal: {
      authority: authorityFor(identity.tenantId),
      knownAuthorities: [SIMULATOR_AUTHORITY_HOST],
      authorityMetadata: JSON.stringify({
        token_endpoint: endpoints.tokenEndpoint,
        authorization_endpoint: endpoints.authorizationEndpoint,
        issuer: identity.accessTokenIssuer,
        jwks_uri: endpoints.jwksUri,
      }),
    },
    notificationAuth: {
      jwksUrl: botFramework.jwksUri,
      openIdConfigurationUrl: botFramework.openIdConfiguration,
      issuer: identity.notificationIssuer,
      audience: identity.botAppId,
    },
  };
}
