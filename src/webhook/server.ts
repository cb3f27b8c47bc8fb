/**
 * Handoff's two HTTP servers (issue 9.2), built, not started: the caller listens (src/app), tests
 * listen on port 0.
 *
 * - The public webhook (`buildWebhookServer`, HOST/PORT): Graph's notifications in (verified,
 *   parsed, signalled to the owning workflow) and health. This is what the internet sees.
 * - The API (`buildApiServer`, HANDOFF_API_HOST/HANDOFF_API_PORT, 127.0.0.1 by default): transfers
 *   and bot calls for other services, behind bearer tokens, its OpenAPI document, and health. It
 *   dials numbers and hangs up calls, so it is not on the public address at all.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { DEFAULT_BODY_LIMIT_BYTES, type WebhookDeps } from './deps.js';
import { type DrainState, installDraining } from './drain.js';
import { answerClientError, answerFrameworkError, installErrorHandling } from './errors.js';
import { installJsonBodyParser } from './json-body.js';
import { metricsFor, recordHttpMetrics, serveMetrics, type WebhookMetrics } from './metrics.js';
import { createNotificationVerifier } from './notification-auth.js';
import { createNotificationKeys } from './notification-keys.js';
import { QuietRequestLog } from './request-log.js';
import { recordRequestSpans } from './request-spans.js';
import { callsApiRoutes } from './routes/calls-api.js';
import { healthRoutes } from './routes/health.js';
import { incomingCallRoutes } from './routes/incoming-calls.js';
import { nativeTransferRoutes } from './routes/native-transfers.js';
import { notificationRoutes } from './routes/notifications.js';
import { routingRulesRoutes } from './routes/routing-rules.js';
import { transferRoutes } from './routes/transfers.js';
import { createTemporalCaller, type TemporalCaller } from './temporal-calls.js';

/** Workflow ids reach 200 characters; the default (100) would refuse valid ones. */
const MAX_PARAM_LENGTH = 256;

/** Where the API's OpenAPI 3.1 document is served. */
export const OPENAPI_PATH = '/openapi.json';

/** What both servers share: limits, the JSON parser, the one error shape, a Temporal caller. */
function baseServer(
  deps: WebhookDeps,
  listener: 'webhook' | 'api',
): { app: FastifyInstance; temporalCalls: TemporalCaller; metrics: WebhookMetrics; drain: DrainState } {
  const bodyLimit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const app = Fastify({
    logger: deps.logger ?? true,
    // The per-request lines at debug: per notification, info is for what happened (request-log.ts).
    logController: new QuietRequestLog(),
    bodyLimit,
    // Graph expects an answer within 5 s; a client that trickles its request is cut off.
    requestTimeout: 10_000,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A bad percent-escape or an over-long workflow id in the path, and requests Node's HTTP parser
    // refuses, get the `{ error: { code, message } }` shape too, not fastify's own bodies.
    frameworkErrors: answerFrameworkError(MAX_PARAM_LENGTH),
    clientErrorHandler: answerClientError,
    // Request ids show up in every log line and in 500 messages.
    requestIdHeader: false,
    // While closing, requests on open connections reach the drain hook (src/webhook/drain.ts), which
    // answers 503 with Retry-After; fastify's own 503 has none.
    return503OnClosing: false,
  });

  // JSON only: fastify also parses text/plain by default, which nothing here accepts (415).
  app.removeContentTypeParser(['text/plain']);
  installJsonBodyParser(app);
  installErrorHandling(app, bodyLimit);

  const metrics = metricsFor(deps);
  recordHttpMetrics(app, metrics, listener);
  if (deps.tracer) recordRequestSpans(app, deps.tracer, listener);
  const drain = installDraining(app);
  const temporalCalls = createTemporalCaller(deps.temporal);
  // close() resolves only when no Temporal call is left retrying: then the connection can go.
  app.addHook('onClose', () => temporalCalls.idle());
  return { app, temporalCalls, metrics, drain };
}

/** The public server: notification routes and health only. Every API path answers 404 here. */
export function buildWebhookServer(deps: WebhookDeps): FastifyInstance {
  const { app, temporalCalls, metrics, drain } = baseServer(deps, 'webhook');
  // Created here, not per request: the signing keys are fetched once at start, then cached.
  const notificationKeys = createNotificationKeys(deps.notificationAuth);
  const verifyNotification = createNotificationVerifier(deps.notificationAuth, notificationKeys);
  app.addHook('onReady', () => notificationKeys.start(app.log));
  app.addHook('onClose', async () => notificationKeys.stop());
  app.register(healthRoutes, { temporalCalls, notificationKeys, drain });
  app.register(notificationRoutes, { deps, temporalCalls, verifyNotification, metrics });
  return app;
}

/** The API server: transfers, bot calls, `/openapi.json` and health. */
export function buildApiServer(deps: WebhookDeps): FastifyInstance {
  const { app, temporalCalls, metrics, drain } = baseServer(deps, 'api');
  // The route schemas describe the API for the OpenAPI document; zod validates in the routes, with
  // messages that name each wrong field (src/webhook/transfer-request.ts, call-request.ts).
  app.setValidatorCompiler(() => (value) => ({ value }));
  // Answers are sent as they are: a response schema must not strip a field it does not list.
  app.setSerializerCompiler(() => (value) => JSON.stringify(value));
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Handoff API',
        version: '1',
        description:
          'Start, inspect and cancel transfers of Microsoft Teams calls, and drive calls the bot holds. docs/api-access.md describes access: the listener, bearer tokens, idempotency keys.',
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'One of the tokens in HANDOFF_API_TOKEN (comma-separated during a rotation)',
          },
        },
      },
    },
  });
  app.register(healthRoutes, { temporalCalls, drain });
  app.register(transferRoutes, { deps, temporalCalls });
  app.register(callsApiRoutes, { deps, temporalCalls });
  app.register(incomingCallRoutes, { deps, temporalCalls });
  app.register(routingRulesRoutes, { deps });
  app.register(nativeTransferRoutes, { deps, temporalCalls });
  // The document describes routes and schemas, no secret: tools may fetch it without a token.
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
  // Prometheus scrapes it on the private listener, like the document without a token: counts, no secrets.
  serveMetrics(app, metrics);
  return app;
}
