import type { Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import type { FastifyServerOptions } from 'fastify';
import type { MediaInfo } from '../graph/index.js';
import type { RoutingRules } from '../routing/rules-store.js';
import type { TransferPolicy, TransferTarget } from '../workflows/transfer/types.js';
import type { ApiTokens } from './api-token.js';
import type { WebhookMetrics } from './metrics.js';
import type { NotificationAuthOptions } from './notification-auth.js';

/** What the webhook does with an incoming call that no one asked it to transfer. */
export interface IncomingCallPolicy {
  /** Without one, incoming calls are logged and acknowledged (202), and nothing starts. */
  defaultTarget?: TransferTarget;
  /** Prompts Graph should prefetch when the workflow answers (seed 000). */
  preFetchMedia?: MediaInfo[];
}

/** Everything the webhook needs, passed in: src/webhook never reads process.env. */
export interface WebhookDeps {
  /** Its connection may be down: routes answer 503 then, and /readyz says so. */
  temporal: Client;
  taskQueue: string;
  /** Callbacks are `${publicBaseUrl}/api/calls/<workflowId>/<callbackKey>`. */
  publicBaseUrl: string;
  /** HANDOFF_CALLBACK_SECRET: the first signs callback URLs, every one is accepted (callback-binding.ts). */
  callbackSecrets: readonly string[];
  /** What a notification POST may take in all before it is answered 503 (Graph waits 5 s). Default 3000. */
  notificationBudgetMs?: number;
  botAppId: string;
  tenantId?: string;
  /** e.g. http://127.0.0.1:8233: responses then link `${ui}/namespaces/${ns}/workflows/${workflowId}`. */
  temporalUiUrl?: string;
  namespace: string;
  incomingCallPolicy: IncomingCallPolicy;
  /**
   * HANDOFF_ROUTING_RULES in force (docs/routing.md): when set, every incoming call is routed by the
   * rules (a `routeCall` workflow) instead of being transferred to `incomingCallPolicy.defaultTarget`.
   */
  routing?: RoutingRules;
  /** Configured call-ownership policy of every transfer started (a request's own fields win). */
  transferPolicy?: TransferPolicy;
  notificationAuth: NotificationAuthOptions;
  /** Default 256 KiB. */
  bodyLimitBytes?: number;
  /**
   * When set, the API (buildApiServer) needs `Authorization: Bearer <token>` with one of these
   * (several during a rotation). The public server (buildWebhookServer) serves no API route.
   */
  apiToken?: ApiTokens;
  logger?: FastifyServerOptions['logger'];
  /** Prometheus metrics; by default both servers built from one deps object share a new registry. */
  metrics?: WebhookMetrics;
  /** OpenTelemetry (docs/tracing.md): a span per request; unset, no tracing. */
  tracer?: Tracer;
}

export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;
export const DEFAULT_NOTIFICATION_BUDGET_MS = 3_000;
