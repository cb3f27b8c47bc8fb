import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { adminRoutes, type SimulatorControl } from './admin-routes.js';
import type { Calling } from './calling.js';
import { GraphError, graphErrorBody, graphErrorCode, OAuthError, oauthErrorBody } from './errors.js';
import type { FaultInjector } from './faults.js';
import { graphCallRoutes } from './graph-routes.js';
import { identityRoutes } from './identity-routes.js';
import { SimulatorConfigError } from './settings.js';
import type { TokenService } from './tokens.js';

/** One Graph API request as the simulator saw and answered it. */
export interface RequestRecord {
  method: string;
  /** Path without the query string, e.g. /v1.0/communications/calls/{id}/answer. */
  path: string;
  status: number;
  /** The parsed JSON request body (undefined when there was none). */
  body: unknown;
  /** The JSON response body, when there was one. */
  response?: unknown;
  at: Date;
}

export interface SimulatorServerDeps {
  tokens: TokenService;
  calling: Calling;
  faults: FaultInjector;
  control: SimulatorControl;
  /** Every Graph API request is appended here. */
  requests: RequestRecord[];
  logger?: FastifyServerOptions['logger'];
}

/** Graph serves the calling API under /v1.0 and /beta; the simulator also at the root. */
export const versionPrefixes = ['', '/v1.0', '/beta'] as const;
/** Current and deprecated collection paths (design.md: accept both generations). */
export const callCollections = ['/communications/calls', '/app/calls'] as const;

const graphPath = /^(?:\/(?:v1\.0|beta))?\/(?:communications|app)\/calls(?:[/?]|$)/i;
const tokenPath = /^\/[^/]+\/oauth2\/v2\.0\/token(?:\?|$)/;

/** Builds the simulator's fastify instance without listening: Entra-like identity, Graph calling API, admin knobs. */
export function buildSimulatorServer(deps: SimulatorServerDeps): FastifyInstance {
  const app = Fastify({ logger: deps.logger ?? false, forceCloseConnections: true });

  // Graph clients send POST keepAlive with or without a body; an empty JSON body is no body.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    const source = String(text);
    if (source.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(source));
    } catch (error) {
      done(new GraphError(400, `The request body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, text, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(text))));
    },
  );

  app.setErrorHandler(
    (error: FastifyError | GraphError | OAuthError | SimulatorConfigError, request, reply) => {
      if (error instanceof GraphError) {
        if (error.status === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"');
        return reply
          .code(error.status)
          .send(graphErrorBody(error.code, error.message, clientRequestId(request)));
      }
      if (error instanceof OAuthError) {
        return reply.code(error.status).send(oauthErrorBody(error.error, error.message, error.aadsts));
      }
      if (error instanceof SimulatorConfigError) {
        return reply.code(400).send(graphErrorBody('BadRequest', error.message));
      }
      const status =
        'statusCode' in error && error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
      if (status >= 500) request.log.error(error);
      if (tokenPath.test(request.url)) {
        return reply.code(status).send(oauthErrorBody('invalid_request', error.message, 900144));
      }
      return reply
        .code(status)
        .send(graphErrorBody(graphErrorCode(status), error.message, clientRequestId(request)));
    },
  );

  app.setNotFoundHandler((request, reply) => {
    if (graphPath.test(request.url)) {
      // Graph answers an unknown segment or method with 400, not 404: a 404 means "no such call".
      return reply
        .code(400)
        .send(
          graphErrorBody(
            'BadRequest',
            `Resource not found for ${request.method} ${request.url.split('?')[0]}. The simulator serves POST /communications/calls, GET/DELETE /communications/calls/{id}, POST …/{id}/answer, POST …/{id}/participants/invite, GET …/{id}/participants, GET …/{id}/operations/{operationId} and POST …/{id}/keepAlive.`,
          ),
        );
    }
    return reply
      .code(404)
      .send(
        graphErrorBody(
          'NotFound',
          `The simulator has no route ${request.method} ${request.url.split('?')[0]}.`,
        ),
      );
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (!graphPath.test(request.url)) return payload;
    reply.header('request-id', reply.getHeader('request-id') ?? randomUUID());
    deps.requests.push({
      method: request.method,
      path: request.url.split('?')[0] ?? request.url,
      status: reply.statusCode,
      body: request.body,
      ...(typeof payload === 'string' && payload.length > 0 ? { response: safeJson(payload) } : {}),
      at: new Date(Date.now() - reply.elapsedTime),
    });
    return payload;
  });

  app.register(identityRoutes, { tokens: deps.tokens, faults: deps.faults });
  for (const versionPrefix of versionPrefixes) {
    for (const collection of callCollections) {
      app.register(graphCallRoutes, {
        prefix: `${versionPrefix}${collection}`,
        calling: deps.calling,
        tokens: deps.tokens,
        faults: deps.faults,
        versionPrefix,
      });
    }
  }
  app.register(adminRoutes, { prefix: '/_simulator', control: deps.control });
  return app;
}

function clientRequestId(request: {
  headers: Record<string, string | string[] | undefined>;
}): string | undefined {
  const value = request.headers['client-request-id'];
  return typeof value === 'string' ? value : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
