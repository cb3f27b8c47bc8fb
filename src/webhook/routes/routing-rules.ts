/**
 * The routing rules on the API listener (docs/routing.md, "API"): `GET /api/routing-rules` shows the
 * rules in force, their source, version and load time, and the last reload's error;
 * `POST /api/routing-rules/reload` reads the file again. An invalid file is answered 422 with the
 * rule and field to fix, and the rules in force stay: a bad edit never takes calls down.
 */
import type { FastifyInstance } from 'fastify';
import type { RoutingRules, RoutingRulesSnapshot } from '../../routing/rules-store.js';
import { apiRouteSchemas } from '../api-schemas.js';
import { requireApiToken } from '../api-token.js';
import type { WebhookDeps } from '../deps.js';
import { HttpError } from '../errors.js';

export interface RoutingRulesRoutesOptions {
  deps: WebhookDeps;
}

function answerOf(snapshot: RoutingRulesSnapshot) {
  const { ruleSet, ...rest } = snapshot;
  return { ...rest, targets: ruleSet.targets, rules: ruleSet.rules, default: ruleSet.default };
}

export async function routingRulesRoutes(
  app: FastifyInstance,
  { deps }: RoutingRulesRoutesOptions,
): Promise<void> {
  requireApiToken(app, deps.apiToken, 'routing rules');

  const configured = (): RoutingRules => {
    if (!deps.routing) {
      throw new HttpError(
        404,
        'routing_rules_not_configured',
        'no routing rule file is configured: set HANDOFF_ROUTING_RULES (docs/routing.md)',
      );
    }
    return deps.routing;
  };

  app.get('/api/routing-rules', { schema: apiRouteSchemas.getRoutingRules }, async () =>
    answerOf(configured().snapshot()),
  );

  app.post('/api/routing-rules/reload', { schema: apiRouteSchemas.reloadRoutingRules }, async (request) => {
    const rules = configured();
    const reloaded = rules.reload();
    if (!reloaded.ok) {
      request.log.error(
        { source: rules.source, error: reloaded.error },
        'routing rules reload refused: the rules in force stay',
      );
      throw new HttpError(
        422,
        'invalid_routing_rules',
        `${reloaded.error}\nthe rules in force stay (loaded ${rules.snapshot().loadedAt})`,
      );
    }
    request.log.info(
      {
        source: rules.source,
        version: reloaded.snapshot.version,
        rules: reloaded.snapshot.ruleSet.rules.length,
      },
      'routing rules reloaded',
    );
    return answerOf(reloaded.snapshot);
  });
}
