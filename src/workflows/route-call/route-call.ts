/**
 * Routes one incoming call (issue 11.4-5, docs/routing.md). The webhook matched the rules and
 * started this workflow (`route-<callId>`) with the decision; this workflow records it, asks the
 * decision hook when the rule says `ask` (one activity attempt within the rule's deadline; a slow,
 * unreachable or garbled hook means the rule's fallback), and starts the chosen flow's workflow
 * under its usual id as a child that outlives it (ParentClosePolicy ABANDON): the call always has
 * a running owner, and GET /api/transfers/:callId or /api/incoming-calls/:callId find it. The
 * incoming call's notifications it received are forwarded to that workflow.
 *
 * One routeCall per call id: a duplicate incoming notification only signals it (or, once it has
 * finished, is refused by REJECT_DUPLICATE), so a call is never routed twice.
 */

import { type SearchAttributePair, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { RoutingActivities } from '../../activities/decision-hook.js';
// identity-set.ts, which imports nothing at run time: graph/index.js also exports the Graph client
// (node:crypto), and identity.ts the zod schemas; neither belongs in the workflow bundle.
import { primaryIdentity } from '../../graph/identity-set.js';
import {
  HandoffCallIds,
  HandoffCallOwner,
  HandoffFlow,
  HandoffRoute,
  HandoffTransferState,
} from '../../temporal/search-attributes.js';
import { graphNotificationsSignal, type NotificationDelivery } from '../definitions.js';
import { childStartOf } from './child-start.js';
import {
  type HookOutcome,
  ROUTE_CALL_WORKFLOW_TYPE,
  type RouteAction,
  type RouteCallInput,
  type RouteCallResult,
  routeLabel,
} from './definitions.js';

/**
 * A `transfer` invites the caller by identity (with `replacesCallId`); a call whose notification
 * names no caller (a withheld number) cannot be transferred that way, and answering it first would
 * only end in hanging up on the caller. Under this patch such a call is rejected instead, and the
 * decision says why. Other actions need no caller identity.
 */
export const TRANSFER_NEEDS_CALLER_PATCH = 'route-call-transfer-needs-caller';

/** The hook's own deadline is enforced by the activity; this leaves room to report it. */
const HOOK_ACTIVITY_MARGIN_MS = 1_000;

/** One attempt: Graph's 15 s window has no room for a second, and the fallback is an answer. */
const hooks = proxyActivities<RoutingActivities>({
  startToCloseTimeout: '11s',
  retry: { maximumAttempts: 1 },
});

export async function routeCall(input: RouteCallInput): Promise<RouteCallResult> {
  const { callId, decision } = input;
  const deliveries: NotificationDelivery[] = [];
  setHandler(graphNotificationsSignal, (delivery) => {
    deliveries.push(delivery);
  });

  upsertSearchAttributes([
    { key: HandoffCallIds, value: [callId] },
    { key: HandoffFlow, value: 'route' },
    { key: HandoffCallOwner, value: ROUTE_CALL_WORKFLOW_TYPE },
    { key: HandoffRoute, value: routeLabel(decision.rule, decision.action.kind) },
    { key: HandoffTransferState, value: decision.action.kind === 'ask' ? 'asking' : 'routing' },
  ]);
  setCurrentDetails(`**${decision.action.kind}** (${decision.why})`);

  // The decision: the rule's action, or what the hook answered, or the rule's fallback and why.
  let action: RouteAction;
  let why = decision.why;
  let hook: HookOutcome | undefined;
  if (decision.action.kind === 'ask') {
    const { ask } = decision.action;
    try {
      hook = await hooks.askDecisionHook.executeWithOptions(
        {
          startToCloseTimeout: ask.timeoutMs + HOOK_ACTIVITY_MARGIN_MS,
          retry: { maximumAttempts: 1 },
          summary: `ask ${new URL(ask.url).host} how to route call ${callId}`,
        },
        [
          {
            url: ask.url,
            timeoutMs: ask.timeoutMs,
            callId,
            rule: decision.rule,
            facts: input.facts,
            targets: input.targets,
            ...(ask.headers ? { headers: ask.headers } : {}),
          },
        ],
      );
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      hook = { answered: false, why: `the hook activity failed: ${error.cause?.message ?? error.message}` };
    }
    if (hook.answered) {
      action = hook.action;
      why = `${decision.why}; the hook answered ${hook.action.kind}${hook.why ? ` (${hook.why})` : ''}`;
    } else {
      action = ask.fallback;
      why = `${decision.why}; fallback ${ask.fallback.kind}: ${hook.why}`;
    }
    log.info('decision hook', { callId, rule: decision.rule, hook, action: action.kind });
  } else {
    action = decision.action;
  }
  if (action.kind === 'transfer' && !primaryIdentity(input.caller) && patched(TRANSFER_NEEDS_CALLER_PATCH)) {
    why = `${why}; rejected instead: a transfer invites the caller by identity, and the notification names none`;
    action = { kind: 'reject', reason: 'none' };
  }

  const route = routeLabel(decision.rule, action.kind);
  const child = childStartOf(input, action, route);
  upsertSearchAttributes([
    { key: HandoffRoute, value: route },
    { key: HandoffTransferState, value: 'handingOver' },
  ]);
  setCurrentDetails(`**${action.kind}** → ${child.workflowId} (${why})`);

  const typedSearchAttributes: SearchAttributePair[] = [
    { key: HandoffCallIds, value: [callId] },
    { key: HandoffRoute, value: route },
    ...child.searchAttributes,
  ];
  const result = (outcome: RouteCallResult['outcome']): RouteCallResult => ({
    callId,
    rule: decision.rule,
    action: action.kind,
    why,
    route,
    workflowId: child.workflowId,
    workflowType: child.workflowType,
    outcome,
    ...(hook ? { hook } : {}),
  });
  try {
    await startChild(child.workflowType, {
      workflowId: child.workflowId,
      args: [child.input],
      // The call's owner from now on: it must outlive this workflow.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes,
      staticSummary: child.summary,
      staticDetails: `Route: ${route} (${why})`,
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    // An API request (redirect, reject, transfer) acted on the call first: it owns the call.
    upsertSearchAttributes([
      { key: HandoffCallOwner, value: 'none' },
      { key: HandoffTransferState, value: 'alreadyOwned' },
    ]);
    return result('alreadyOwned');
  }

  // The incoming notification (and whatever came with or after it) is the child's now.
  const target = getExternalWorkflowHandle(child.workflowId);
  let forwarded = 0;
  const forward = async () => {
    while (forwarded < deliveries.length) {
      const delivery = deliveries[forwarded++] as NotificationDelivery;
      try {
        await target.signal(graphNotificationsSignal, delivery);
      } catch (error) {
        // The child finished already (a reject is quick): nothing left to tell it.
        log.warn('notification not forwarded: the routed workflow is gone', { callId, error: String(error) });
      }
    }
  };
  await forward();
  await condition(allHandlersFinished);
  await forward();
  upsertSearchAttributes([
    { key: HandoffCallOwner, value: 'none' },
    { key: HandoffTransferState, value: 'routed' },
  ]);
  return result('started');
}
