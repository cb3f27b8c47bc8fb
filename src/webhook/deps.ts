import type { Client } from '@temporalio/client';
import type { FastifyServerOptions } from 'fastify';
import type { MediaInfo } from '../graph/index.js';
import type { TransferPolicy, TransferTarget } from '../workflows/types.js';
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
  /** Callbacks are `${publicBaseUrl}/api/calls/<workflowId>`. */
  publicBaseUrl: string;
  botAppId: string;
  tenantId?: string;
  /** e.g. http://127.0.0.1:8233: responses then link `${ui}/namespaces/${ns}/workflows/${workflowId}`. */
  temporalUiUrl?: string;
  namespace: string;
  incomingCallPolicy: IncomingCallPolicy;
  /** Configured call-ownership policy of every transfer started (a request's own fields win). */
  transferPolicy?: TransferPolicy;
  notificationAuth: NotificationAuthOptions;
  /** Default 256 KiB. */
  bodyLimitBytes?: number;
  /** When set, the /api/transfers API needs `Authorization: Bearer <apiToken>`. */
  apiToken?: string;
  logger?: FastifyServerOptions['logger'];
}

export const DEFAULT_BODY_LIMIT_BYTES = 256 * 1024;
