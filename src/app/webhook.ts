import type { Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import type { FastifyServerOptions } from 'fastify';
import type { HandoffConfig } from '../config/env.js';
import { RoutingRules } from '../routing/rules-store.js';
import type { NotificationAuthOptions, WebhookDeps } from '../webhook/index.js';
import type { SimulatorConnection } from './simulator-connection.js';

/**
 * The webhook's dependencies for this deployment. A tenant's notifications are verified
 * against Microsoft's keys (config); the embedded simulator's against the simulator's own.
 */
export function webhookDepsFor(
  config: HandoffConfig,
  temporal: Client,
  options: {
    simulator?: SimulatorConnection;
    temporalUiUrl?: string;
    logger?: FastifyServerOptions['logger'];
    /** Tracing's tracer (src/tracing): a span per request. */
    tracer?: Tracer;
  },
): WebhookDeps {
  const { simulator } = options;
  if (!config.tenant && !simulator) throw new Error('No tenant is configured and no simulator is running');
  const notificationAuth: NotificationAuthOptions = {
    ...(config.notificationAuth ?? {
      jwksUrl: simulator!.notificationAuth.jwksUrl,
      issuers: [simulator!.notificationAuth.issuer],
      audience: simulator!.notificationAuth.audience,
      allowedTenants: [simulator!.tenantId],
    }),
    tokenCacheSize: config.notifications.tokenCacheSize,
  };
  return {
    temporal,
    taskQueue: config.temporal.taskQueue,
    namespace: config.temporal.namespace,
    publicBaseUrl: config.webhook.publicBaseUrl,
    callbackSecrets: config.notifications.callbackSecrets,
    notificationBudgetMs: config.notifications.budgetMs,
    botAppId: config.tenant?.clientId ?? simulator!.botAppId,
    tenantId: config.tenant?.tenantId ?? simulator!.tenantId,
    ...(options.temporalUiUrl ? { temporalUiUrl: options.temporalUiUrl } : {}),
    incomingCallPolicy: config.defaultTarget ? { defaultTarget: config.defaultTarget } : {},
    ...(config.routing ? { routing: routingRulesFor(config.routing) } : {}),
    transferPolicy: config.transferPolicy,
    notificationAuth,
    bodyLimitBytes: config.webhook.bodyLimitBytes,
    ...(config.api.tokens.length > 0 ? { apiToken: config.api.tokens } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    ...(options.tracer ? { tracer: options.tracer } : {}),
  };
}

/**
 * One store of rules in force per loaded configuration: the public webhook (which routes calls) and
 * the API (which reloads and shows the rules) are built from separate deps objects, and must share it.
 */
const routingRulesByConfig = new WeakMap<NonNullable<HandoffConfig['routing']>, RoutingRules>();

function routingRulesFor(routing: NonNullable<HandoffConfig['routing']>): RoutingRules {
  let rules = routingRulesByConfig.get(routing);
  if (!rules) {
    rules = new RoutingRules(routing.path, routing.ruleSet);
    routingRulesByConfig.set(routing, rules);
  }
  return rules;
}
