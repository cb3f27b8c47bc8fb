/**
 * The webhook: Graph's notifications in (verified, parsed, signalled to the owning workflow),
 * the transfers API for other services, and health endpoints. Built, not started: the caller
 * listens (src/app), tests listen on port 0.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { DEFAULT_BODY_LIMIT_BYTES, type WebhookDeps } from './deps.js';
import { answerClientError, answerFrameworkError, installErrorHandling } from './errors.js';
import { installJsonBodyParser } from './json-body.js';
import { createNotificationVerifier } from './notification-auth.js';
import { createNotificationKeys } from './notification-keys.js';
import { callsApiRoutes } from './routes/calls-api.js';
import { healthRoutes } from './routes/health.js';
import { notificationRoutes } from './routes/notifications.js';
import { transferRoutes } from './routes/transfers.js';
import { createTemporalCaller } from './temporal-calls.js';

/** Workflow ids reach 200 characters; the default (100) would refuse valid ones. */
const MAX_PARAM_LENGTH = 256;

export function buildWebhookServer(deps: WebhookDeps): FastifyInstance {
  const bodyLimit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const app = Fastify({
    logger: deps.logger ?? true,
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
  });

  // JSON only: fastify also parses text/plain by default, which nothing here accepts (415).
  app.removeContentTypeParser(['text/plain']);
  installJsonBodyParser(app);
  installErrorHandling(app, bodyLimit);

  // Created here, not per request: the signing keys are fetched once at start, then cached.
  const notificationKeys = createNotificationKeys(deps.notificationAuth);
  const verifyNotification = createNotificationVerifier(deps.notificationAuth, notificationKeys);
  app.addHook('onReady', () => notificationKeys.start(app.log));
  app.addHook('onClose', async () => notificationKeys.stop());

  const temporalCalls = createTemporalCaller(deps.temporal);
  // close() resolves only when no Temporal call is left retrying: then the connection can go.
  app.addHook('onClose', () => temporalCalls.idle());

  app.register(healthRoutes, { temporalCalls });
  app.register(notificationRoutes, { deps, temporalCalls, verifyNotification });
  app.register(transferRoutes, { deps, temporalCalls });
  app.register(callsApiRoutes, { deps, temporalCalls });
  return app;
}
