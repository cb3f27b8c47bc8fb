/**
 * Liveness and readiness for load balancers and orchestrators. /healthz says the process
 * serves; /readyz says it can also do its job, which needs Temporal and, on the public webhook,
 * the keys that sign Graph's notifications (without them every notification is answered 503).
 */
import type { FastifyInstance } from 'fastify';
import { apiRouteSchemas } from '../api-schemas.js';
import { type DrainState, drainingError } from '../drain.js';
import { HttpError, sendError } from '../errors.js';
import { type TemporalCaller, TemporalUnavailableError } from '../temporal-calls.js';

const READINESS_TIMEOUT_MS = 2_000;

export interface HealthRoutesOptions {
  temporalCalls: TemporalCaller;
  /** The public webhook's notification keys; the API server has none. */
  notificationKeys?: { loaded(): boolean };
  /** Set once the process drains before a shutdown: not ready, though still alive. */
  drain?: DrainState;
}

export async function healthRoutes(
  app: FastifyInstance,
  { temporalCalls, notificationKeys, drain }: HealthRoutesOptions,
): Promise<void> {
  app.get('/healthz', { schema: apiRouteSchemas.liveness }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: apiRouteSchemas.readiness }, async (request, reply) => {
    if (drain?.draining) return sendError(reply, drainingError());
    if (notificationKeys && !notificationKeys.loaded()) {
      request.log.warn('not ready: the notification signing keys have not been fetched yet');
      return sendError(
        reply,
        new HttpError(
          503,
          'notification_keys_not_loaded',
          'not ready: notifications cannot be verified yet',
          {
            headers: { 'retry-after': '5' },
          },
        ),
      );
    }
    try {
      // The cheapest call the server answers; it proves the connection and the server work.
      await temporalCalls.call(
        'a readiness check',
        () => temporalCalls.client.workflowService.getSystemInfo({}),
        READINESS_TIMEOUT_MS,
      );
      return { status: 'ready' };
    } catch (error) {
      const unavailable =
        error instanceof TemporalUnavailableError
          ? error
          : new TemporalUnavailableError('a readiness check', error);
      request.log.warn({ err: error }, 'not ready: Temporal does not answer');
      return sendError(reply, unavailable);
    }
  });
}
