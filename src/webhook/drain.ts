/**
 * Draining before a shutdown (issue 13.5). On SIGTERM a listener first drains: readiness answers 503
 * at once, so a load balancer stops sending it traffic, and every new request but liveness and
 * readiness is answered 503 + Retry-After, so Graph sends the notification again (to another replica)
 * instead of losing it. Requests already in flight finish: their signals reach Temporal before the
 * listener closes (fastify's close waits for them, and for every Temporal call still retrying).
 */
import type { FastifyInstance } from 'fastify';
import { HttpError, sendError } from './errors.js';
import { RETRY_AFTER_SECONDS } from './temporal-calls.js';

/** Routes that keep answering while draining: they report the drain rather than refuse work. */
const HEALTH_ROUTES = new Set(['/healthz', '/readyz']);

export interface DrainState {
  draining: boolean;
}

/** The drain state of each server built by src/webhook/server.ts, keyed by the root instance. */
const drainStates = new WeakMap<FastifyInstance, DrainState>();

export function drainingError(): HttpError {
  return new HttpError(
    503,
    'shutting_down',
    `this Handoff process is shutting down; retry after ${RETRY_AFTER_SECONDS} s (another replica takes it)`,
    { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } },
  );
}

/** Refuses new work on `app` once it drains; answers the state health routes read. */
export function installDraining(app: FastifyInstance): DrainState {
  const state: DrainState = { draining: false };
  drainStates.set(app, state);
  app.addHook('onRequest', async (request, reply) => {
    if (!state.draining || HEALTH_ROUTES.has(request.routeOptions.url ?? '')) return;
    // The connection goes too: the client's next attempt opens one to a listener that still serves.
    reply.header('connection', 'close');
    return sendError(reply, drainingError());
  });
  // A close() without a drain first (tests, `npm start`'s stop) refuses new work the same way.
  app.addHook('preClose', async () => {
    state.draining = true;
  });
  return state;
}

/** Starts draining `app` (built by buildWebhookServer or buildApiServer); it keeps listening. */
export function startDraining(app: FastifyInstance): void {
  const state = drainStates.get(app);
  if (!state) throw new Error('startDraining: this server was not built by src/webhook/server.ts');
  state.draining = true;
}
