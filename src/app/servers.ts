/**
 * Both HTTP listeners of a deployment (issue 9.2): the public webhook on HOST/PORT (notifications and
 * health) and the API on HANDOFF_API_HOST/HANDOFF_API_PORT (transfers, bot calls, OpenAPI, health).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { HandoffConfig } from '../config/env.js';
import { startDraining } from '../webhook/drain.js';
import { buildApiServer, buildWebhookServer, type WebhookDeps } from '../webhook/index.js';

export interface Listeners {
  webhook: FastifyInstance;
  api: FastifyInstance;
  /** e.g. http://127.0.0.1:3978: where Graph's notifications arrive (behind PUBLIC_BASE_URL). */
  webhookUrl: string;
  /** e.g. http://127.0.0.1:3979: where other services call the API. */
  apiUrl: string;
  close(): Promise<void>;
  /**
   * The shutdown on SIGTERM (issue 13.5): both listeners drain (readiness 503, new requests 503 +
   * Retry-After) for `drainDelayMs` so a load balancer sees it, then close once the requests in
   * flight have delivered their signals.
   */
  drainAndClose(drainDelayMs: number): Promise<void>;
}

/** The URL a listener is reached at from this machine (0.0.0.0 and :: listen on every address). */
function urlOf(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const reachable =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}

export async function startListeners(config: HandoffConfig, deps: WebhookDeps): Promise<Listeners> {
  const webhook = buildWebhookServer(deps);
  const api = buildApiServer(deps);
  try {
    await webhook.listen({ host: config.webhook.host, port: config.webhook.port });
    await api.listen({ host: config.api.host, port: config.api.port });
  } catch (error) {
    await Promise.allSettled([webhook.close(), api.close()]);
    throw error;
  }
  // SIGHUP reads the routing rules again (docs/routing.md, "Reload"); an invalid file keeps the old.
  const { routing } = deps;
  const reloadRoutingRules = () => {
    if (!routing) return;
    const reloaded = routing.reload();
    if (reloaded.ok)
      api.log.info(
        { source: routing.source, version: reloaded.snapshot.version },
        'SIGHUP: routing rules reloaded',
      );
    else
      api.log.error(
        { source: routing.source, error: reloaded.error },
        'SIGHUP: routing rules reload refused: the rules in force stay',
      );
  };
  if (routing) process.on('SIGHUP', reloadRoutingRules);
  const close = async () => {
    process.off('SIGHUP', reloadRoutingRules);
    await Promise.allSettled([webhook.close(), api.close()]);
  };
  return {
    webhook,
    api,
    webhookUrl: urlOf(webhook, config.webhook.host),
    apiUrl: urlOf(api, config.api.host),
    close,
    drainAndClose: async (drainDelayMs) => {
      startDraining(webhook);
      startDraining(api);
      if (drainDelayMs > 0) await sleep(drainDelayMs);
      await close();
    },
  };
}

/** The lines a process prints once both listen: where each thing is, and whether the API is closed. */
export function describeListeners(config: HandoffConfig, listeners: Listeners): string[] {
  const access =
    config.api.tokens.length > 0
      ? `bearer token required (${config.api.tokens.length} accepted)`
      : 'NO AUTHENTICATION (set HANDOFF_API_TOKEN)';
  return [
    `webhook (public: notifications and health) on ${listeners.webhookUrl}; Graph calls back ${config.webhook.publicBaseUrl}/api/calls`,
    `API on ${listeners.apiUrl}: ${listeners.apiUrl}/api/transfers, ${listeners.apiUrl}/api/bot-calls, OpenAPI ${listeners.apiUrl}/openapi.json; ${access}`,
  ];
}
