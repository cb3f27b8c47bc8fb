/**
 * Liveness and readiness for load balancers and orchestrators. /healthz says the process
 * serves; /readyz says it can also do its job, which needs Temporal.
 */
import type { FastifyInstance } from 'fastify';
import { apiRouteSchemas } from '../api-schemas.js';
import { sendError } from '../errors.js';
import { type TemporalCaller, TemporalUnavailableError } from '../temporal-calls.js';

const READINESS_TIMEOUT_MS = 2_000;

export interface HealthRoutesOptions {
  temporalCalls: TemporalCaller;
}

export async function healthRoutes(
  app: FastifyInstance,
  { temporalCalls }: HealthRoutesOptions,
): Promise<void> {
  app.get('/healthz', { schema: apiRouteSchemas.liveness }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: apiRouteSchemas.readiness }, async (request, reply) => {
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
