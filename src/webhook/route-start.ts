/**
 * How the webhook hands an incoming call to the routing rules (docs/routing.md): the rules in force
 * decide now (first match wins, else the default), and the call's `routeCall` workflow is started
 * with that decision, the call's facts, the named targets, and the pre-signed callback URLs of
 * every flow it may start (workflows never sign URLs: src/webhook/callback-binding.ts).
 */
import type { WorkflowStartOptions } from '@temporalio/client';
import type { CallNotification } from '../graph/index.js';
import { callFactsOf, decideRoute } from '../routing/match.js';
import type { RuleSet } from '../routing/rule-file.js';
import { HandoffCallIds, HandoffFlow, HandoffRoute } from '../temporal/search-attributes.js';
import { incomingCallWorkflowId } from '../workflows/incoming-call/definitions.js';
import { nativeTransferWorkflowId } from '../workflows/native-transfer/definitions.js';
import {
  type RouteCallInput,
  type RouteDecision,
  routeCallWorkflowId,
  routeLabel,
} from '../workflows/route-call/definitions.js';
import type { routeCall } from '../workflows/route-call/route-call.js';
import { callbackUriFor } from './callback-binding.js';
import type { WebhookDeps } from './deps.js';
import { transferInputWithoutTarget } from './transfer-start.js';

export type RouteCallWorkflow = typeof routeCall;

type StartContext = Pick<
  WebhookDeps,
  | 'publicBaseUrl'
  | 'callbackSecrets'
  | 'botAppId'
  | 'tenantId'
  | 'taskQueue'
  | 'transferPolicy'
  | 'incomingCallPolicy'
>;

function describeDecision(decision: RouteDecision): string {
  const { action } = decision;
  switch (action.kind) {
    case 'ask':
      return `ask ${action.ask.url} (fallback ${action.ask.fallback.kind})`;
    case 'transfer':
    case 'blindTransfer':
      return `${action.kind} to ${action.target}`;
    case 'redirect':
      return `redirect to ${action.targets.join(', ')}`;
    case 'reject':
      return `reject (${action.reason ?? 'none'})`;
  }
}

/** The decision for this call under `ruleSet` at `now`, and how its routeCall workflow starts. */
export function routeCallStart(
  context: StartContext,
  ruleSet: RuleSet,
  notification: CallNotification,
  receivedAt: Date,
): {
  decision: RouteDecision;
  options: Omit<WorkflowStartOptions<RouteCallWorkflow>, 'workflowIdReusePolicy'>;
} {
  const { callId } = notification;
  const caller = notification.call.source?.identity ?? {};
  const facts = callFactsOf(notification, receivedAt);
  const decision = decideRoute(ruleSet, facts, receivedAt);
  const { preFetchMedia } = context.incomingCallPolicy;
  // The transfer's input without its target: the workflow adds the target the decision names.
  const transfer = transferInputWithoutTarget(context, {
    callId,
    invitee: caller,
    ...(preFetchMedia ? { preFetchMedia } : {}),
  });
  const input: RouteCallInput = {
    callId,
    caller,
    facts,
    decision,
    targets: ruleSet.targets,
    starts: {
      transfer,
      incomingCall: { callId, callbackUri: callbackUriFor(context, incomingCallWorkflowId(callId)) },
      nativeTransfer: {
        callId,
        caller,
        callbackUri: callbackUriFor(context, nativeTransferWorkflowId(callId)),
        botAppId: context.botAppId,
        ...(context.tenantId ? { tenantId: context.tenantId } : {}),
        ...(preFetchMedia?.length ? { preFetchMedia } : {}),
      },
    },
    ...(ruleSet.version !== undefined ? { rulesVersion: ruleSet.version } : {}),
  };
  return {
    decision,
    options: {
      workflowId: routeCallWorkflowId(callId),
      taskQueue: context.taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: HandoffCallIds, value: [callId] },
        { key: HandoffFlow, value: 'route' },
        { key: HandoffRoute, value: routeLabel(decision.rule, decision.action.kind) },
      ],
      staticSummary: `Route incoming call ${callId}: ${describeDecision(decision)}`,
      staticDetails: `Rule: ${decision.rule} (${decision.why})${ruleSet.version !== undefined ? `; rules version ${ruleSet.version}` : ''}`,
    },
  };
}
