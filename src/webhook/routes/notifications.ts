/**
 * Graph's notifications in, workflow signals out (design.md, "Routing notifications to
 * workflows"). Every POST is verified before its body is read, parsed with the src/graph
 * schemas, and acknowledged only after Temporal accepted every signal it produced:
 *
 * - 202: delivered, or addressed to a workflow that is unknown or finished (logged; a retry
 *   would never succeed, so Graph must not retry forever);
 * - 503 + Retry-After: Temporal could not take it within the budget, or the signing keys have
 *   not been fetched yet, so Graph retries;
 * - 401: no valid token; 404: a callback path whose key does not match; 400: a bad body.
 *   Nothing was signalled.
 *
 * Graph gives the webhook 5 s to answer. Every delivery of a POST runs concurrently and shares
 * one budget (`notificationBudgetMs`, default 3 s) measured from the request's arrival: what has
 * not been accepted by then is answered 503, and Graph retries the POST.
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import {
  type CallNotification,
  describeIdentity,
  type GraphNotification,
  NotificationParseError,
  parseNotifications,
  primaryIdentity,
} from '../../graph/index.js';
import type { RoutingRules } from '../../routing/rules-store.js';
import {
  graphNotificationsSignal,
  type NotificationDelivery,
  transferWorkflowId,
} from '../../workflows/definitions.js';
import { ROUTE_CALL_WORKFLOW_TYPE } from '../../workflows/route-call/definitions.js';
import { isCallbackKeyValid } from '../callback-binding.js';
import { DEFAULT_NOTIFICATION_BUDGET_MS, type WebhookDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import type { WebhookMetrics } from '../metrics.js';
import { NotificationAuthError, type NotificationVerifier } from '../notification-auth.js';
import { type RouteCallWorkflow, routeCallStart } from '../route-start.js';
import { ownStrayCalls } from '../stray-calls.js';
import {
  isWorkflowAlreadyStarted,
  isWorkflowNotFound,
  RETRY_AFTER_SECONDS,
  type TemporalCaller,
} from '../temporal-calls.js';
import { TRANSFER_WORKFLOW_TYPE, type TransferWorkflow, transferStartOptions } from '../transfer-start.js';
import { checkWorkflowId, isValidWorkflowId } from '../workflow-id.js';

export interface NotificationRoutesOptions {
  deps: WebhookDeps;
  temporalCalls: TemporalCaller;
  verifyNotification: NotificationVerifier;
  metrics: WebhookMetrics;
}

/** What happened to the notifications of one POST, per workflow. Graph ignores it; people read it. */
export interface DeliveryReport {
  workflowId: string;
  callIds: string[];
  notifications: number;
  /**
   * `started`: signalWithStart for an incoming call (started, or signalled the running one);
   * `signalled`; `unknownWorkflow`: no such workflow or it has finished; `ignored`: an incoming
   * call with no transfer target configured, or one whose transfer already finished.
   */
  outcome: 'started' | 'signalled' | 'unknownWorkflow' | 'ignored';
}

export function isIncomingCall(notification: GraphNotification): notification is CallNotification {
  return (
    notification.kind === 'call' &&
    notification.changeType === 'created' &&
    notification.call.state === 'incoming'
  );
}

function requireJsonBody(request: FastifyRequest): void {
  if (request.body === undefined) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      'Content-Type must be application/json, with a JSON body',
    );
  }
}

function parseBody(body: unknown): GraphNotification[] {
  try {
    return parseNotifications(body);
  } catch (error) {
    if (error instanceof NotificationParseError) {
      throw new HttpError(400, 'invalid_notification', error.message, { issues: error.issues });
    }
    throw error;
  }
}

/** Shows a call id in a message: at most 100 characters, anything but printable ASCII escaped. */
function printable(text: string): string {
  return JSON.stringify(text.slice(0, 100)).replace(
    /[^\x20-\x7e]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Parses the body and refuses call ids that are no Graph call id (GUID-like: letters, digits, '.',
 * '_', ':', '-'): on the bot URL they name the workflow, and on a callback they would reach the
 * workflow's state and the logs (a path, an RTL override, a homoglyph).
 */
function parseRoutableBody(body: unknown): GraphNotification[] {
  const notifications = parseBody(body);
  const index = notifications.findIndex(
    (notification) => !isValidWorkflowId(transferWorkflowId(notification.callId)),
  );
  const unroutable = notifications[index];
  if (unroutable) {
    throw new HttpError(
      400,
      'invalid_call_id',
      `value[${index}]: the call id ${printable(unroutable.callId)} in the resource path is not a Graph call id (letters, digits, '.', '_', ':' or '-')`,
    );
  }
  return notifications;
}

function groupByCall(notifications: GraphNotification[]): Map<string, GraphNotification[]> {
  const byCall = new Map<string, GraphNotification[]>();
  for (const notification of notifications) {
    const group = byCall.get(notification.callId) ?? [];
    group.push(notification);
    byCall.set(notification.callId, group);
  }
  return byCall;
}

/**
 * Waits for every delivery, then fails with the first failure: Graph retries the whole POST,
 * and the workflows ignore what they already applied (design.md, "Ordering and duplicates").
 */
async function settleAll(deliveries: Array<Promise<DeliveryReport>>): Promise<DeliveryReport[]> {
  const settled = await Promise.allSettled(deliveries);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<DeliveryReport>).value);
}

export async function notificationRoutes(
  app: FastifyInstance,
  { deps, temporalCalls, verifyNotification, metrics }: NotificationRoutesOptions,
): Promise<void> {
  const temporal = temporalCalls.client;

  const budgetMs = deps.notificationBudgetMs ?? DEFAULT_NOTIFICATION_BUDGET_MS;

  /** When each POST arrived: its budget counts from there. */
  const arrivals = new WeakMap<FastifyRequest, number>();

  // Before the body is read: an unsigned request costs no parsing and signals nothing.
  app.addHook('onRequest', async (request) => {
    arrivals.set(request, Date.now());
    try {
      const token = await verifyNotification(request.headers.authorization);
      request.log.debug(
        { issuer: token.issuer, keyId: token.keyId, tenantId: token.tenantId },
        'notification token verified',
      );
    } catch (error) {
      if (!(error instanceof NotificationAuthError)) throw error;
      metrics.tokenRefusals.inc({ reason: error.reason });
      throw refusal(error, request.log);
    }
  });

  function arrivalOf(request: FastifyRequest): Date {
    return new Date(arrivals.get(request) ?? Date.now());
  }

  /** Time left of a POST's budget, counted from its arrival. */
  function remainingMs(receivedAtMs: number): number {
    return Math.max(1, receivedAtMs + budgetMs - Date.now());
  }

  async function signalWorkflow(
    workflowId: string,
    notifications: GraphNotification[],
    receivedAt: Date,
    log: FastifyBaseLogger,
    /** The workflow's callback URL the notifications arrived at; unset on the bot's URL. */
    callbackUri?: string,
  ): Promise<DeliveryReport> {
    const callIds = [...new Set(notifications.map((notification) => notification.callId))];
    const report = { workflowId, callIds, notifications: notifications.length };
    const delivery: NotificationDelivery = { notifications, receivedAt: receivedAt.toISOString() };
    try {
      await temporalCalls.call(
        `the notifications for workflow ${workflowId}`,
        () => temporal.workflow.getHandle(workflowId).signal(graphNotificationsSignal, delivery),
        remainingMs(receivedAt.getTime()),
      );
      return { ...report, outcome: 'signalled' };
    } catch (error) {
      if (!isWorkflowNotFound(error)) throw error;
      log.warn(
        { workflowId, callIds, kinds: notifications.map((notification) => notification.kind) },
        'notification for an unknown or finished workflow: acknowledged and dropped',
      );
      // A live call of ours that no running workflow owns gets one (issue 10.4).
      if (callbackUri)
        await ownStrayCalls({ deps, temporalCalls, log }, workflowId, callbackUri, notifications);
      return { ...report, outcome: 'unknownWorkflow' };
    }
  }

  /**
   * Starts (or signals) the transfer of an incoming call, with the incoming notification first and
   * the rest of the batch's notifications for the same call after it, in one signal: they cannot
   * reach the workflow before it exists.
   */
  async function startTransfer(
    notification: CallNotification,
    later: GraphNotification[],
    receivedAt: Date,
    log: FastifyBaseLogger,
  ): Promise<DeliveryReport> {
    const { callId } = notification;
    const workflowId = transferWorkflowId(callId);
    const report = { workflowId, callIds: [callId], notifications: 1 + later.length };
    const caller = notification.call.source?.identity;
    const { defaultTarget, preFetchMedia } = deps.incomingCallPolicy;
    if (!defaultTarget) {
      log.info(
        { callId, caller: describeIdentity(caller) },
        'incoming call not transferred: no default transfer target is configured',
      );
      return { ...report, outcome: 'ignored' };
    }
    if (!caller || !primaryIdentity(caller)) {
      log.warn(
        { callId },
        'incoming call not transferred: the notification names no caller (source.identity)',
      );
      return { ...report, outcome: 'ignored' };
    }
    const start = transferStartOptions(deps, {
      callId,
      invitee: caller,
      target: defaultTarget,
      ...(preFetchMedia ? { preFetchMedia } : {}),
    });
    try {
      // The id derives from the call id: a duplicate incoming notification signals the running
      // workflow (conflict policy USE_EXISTING, the default) instead of starting a second one,
      // and REJECT_DUPLICATE keeps a late duplicate from starting a new run after it finished.
      await temporalCalls.call(
        `the incoming call ${callId}`,
        () =>
          temporal.workflow.signalWithStart<TransferWorkflow, [NotificationDelivery]>(
            TRANSFER_WORKFLOW_TYPE,
            {
              ...start,
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
              signal: graphNotificationsSignal,
              signalArgs: [{ notifications: [notification, ...later], receivedAt: receivedAt.toISOString() }],
            },
          ),
        remainingMs(receivedAt.getTime()),
      );
      log.info(
        { callId, workflowId, caller: describeIdentity(caller) },
        'incoming call: transfer workflow started',
      );
      return { ...report, outcome: 'started' };
    } catch (error) {
      if (!isWorkflowAlreadyStarted(error)) throw error;
      log.warn(
        { callId, workflowId },
        'incoming call whose transfer already finished: acknowledged and ignored',
      );
      return { ...report, outcome: 'ignored' };
    }
  }

  /**
   * Routes an incoming call by the rules in force (docs/routing.md): the decision is made now and
   * recorded in the start of the call's one `routeCall` workflow, with the incoming notification
   * and the rest of the batch as its first signal. A duplicate signals the running one (it forwards
   * the notifications to the flow it started) and one after it finished is refused
   * (REJECT_DUPLICATE): a call is never routed twice, even if the rules changed in between.
   */
  async function routeIncomingCall(
    routing: RoutingRules,
    notification: CallNotification,
    later: GraphNotification[],
    receivedAt: Date,
    log: FastifyBaseLogger,
  ): Promise<DeliveryReport> {
    const { callId } = notification;
    const { decision, options } = routeCallStart(deps, routing.current(), notification, receivedAt);
    const workflowId = options.workflowId;
    const report = { workflowId, callIds: [callId], notifications: 1 + later.length };
    try {
      await temporalCalls.call(
        `the incoming call ${callId}`,
        () =>
          temporal.workflow.signalWithStart<RouteCallWorkflow, [NotificationDelivery]>(
            ROUTE_CALL_WORKFLOW_TYPE,
            {
              ...options,
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
              signal: graphNotificationsSignal,
              signalArgs: [{ notifications: [notification, ...later], receivedAt: receivedAt.toISOString() }],
            },
          ),
        remainingMs(receivedAt.getTime()),
      );
      log.info(
        {
          callId,
          workflowId,
          rule: decision.rule,
          action: decision.action.kind,
          why: decision.why,
          caller: describeIdentity(notification.call.source?.identity),
        },
        'incoming call: routed by the rules',
      );
      return { ...report, outcome: 'started' };
    } catch (error) {
      if (!isWorkflowAlreadyStarted(error)) throw error;
      log.warn({ callId, workflowId }, 'incoming call already routed: acknowledged and ignored');
      return { ...report, outcome: 'ignored' };
    }
  }

  /**
   * Delivers one call's notifications: an incoming call starts its transfer (the rest of the
   * call's notifications ride along), anything else is signalled to the call's workflow.
   */
  function deliverCall(
    notifications: GraphNotification[],
    receivedAt: Date,
    log: FastifyBaseLogger,
  ): Promise<DeliveryReport> {
    const incoming = notifications.find(isIncomingCall);
    if (incoming) {
      const later = notifications.filter((notification) => notification !== incoming);
      return deps.routing
        ? routeIncomingCall(deps.routing, incoming, later, receivedAt, log)
        : startTransfer(incoming, later, receivedAt, log);
    }
    const callId = notifications[0]?.callId ?? '';
    return signalWorkflow(transferWorkflowId(callId), notifications, receivedAt, log);
  }

  /**
   * Every delivery of one POST, concurrently, within what is left of the budget: Graph waits for
   * the slowest, not for the sum. Past the budget the POST is answered 503 (Graph retries it;
   * what was delivered meanwhile is deduplicated by the workflows).
   */
  async function withinBudget(
    receivedAt: Date,
    notifications: GraphNotification[],
    deliveries: Array<Promise<DeliveryReport>>,
  ): Promise<DeliveryReport[]> {
    try {
      const reports = await settleWithinBudget(receivedAt, deliveries);
      countNotifications(metrics, notifications, reports);
      return reports;
    } catch (error) {
      countNotifications(metrics, notifications, 'unavailable');
      throw error;
    }
  }

  async function settleWithinBudget(
    receivedAt: Date,
    deliveries: Array<Promise<DeliveryReport>>,
  ): Promise<DeliveryReport[]> {
    let timer: NodeJS.Timeout | undefined;
    const overBudget = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new HttpError(
              503,
              'temporal_unavailable',
              `Temporal did not accept every notification within ${budgetMs} ms; retry after ${RETRY_AFTER_SECONDS} s`,
              { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } },
            ),
          ),
        remainingMs(receivedAt.getTime()) + 50,
      );
    });
    try {
      return await Promise.race([settleAll(deliveries), overBudget]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The bot's registered URL: incoming calls, and anything Graph sends without a callback of ours. */
  app.post('/api/calls', async (request, reply) => {
    const receivedAt = arrivalOf(request);
    requireJsonBody(request);
    const notifications = parseRoutableBody(request.body);
    const byCall = groupByCall(notifications);
    const deliveries = await withinBudget(
      receivedAt,
      notifications,
      [...byCall.values()].map((group) => deliverCall(group, receivedAt, request.log)),
    );
    return reply.code(202).send({ deliveries });
  });

  /**
   * Callbacks of calls a workflow answered or created: the path names the workflow and carries
   * its callback key (src/webhook/callback-binding.ts). A wrong or missing key is answered like a
   * path that does not exist, before the body is read, and signals nothing.
   */
  app.post<{ Params: { workflowId: string; callbackKey: string } }>(
    '/api/calls/:workflowId/:callbackKey',
    {
      // Checked before the body is read, after the token (hooks run in order).
      onRequest: async (request) => {
        const workflowId = checkWorkflowId(request.params.workflowId);
        if (!isCallbackKeyValid(deps.callbackSecrets, workflowId, request.params.callbackKey)) {
          request.log.warn(
            { workflowId },
            'notification refused: the callback key does not match the workflow id (an old HANDOFF_CALLBACK_SECRET, or a forged path)',
          );
          throw callbackNotFound();
        }
      },
    },
    async (request, reply) => {
      const receivedAt = arrivalOf(request);
      const workflowId = checkWorkflowId(request.params.workflowId);
      requireJsonBody(request);
      const notifications = parseRoutableBody(request.body);
      // The URL Graph posted to is the call's callbackUri: a stray call is checked against it.
      const callbackUri = `${deps.publicBaseUrl.replace(/\/+$/, '')}${request.url.split('?')[0]}`;
      const deliveries = await withinBudget(receivedAt, notifications, [
        signalWorkflow(workflowId, notifications, receivedAt, request.log, callbackUri),
      ]);
      return reply.code(202).send({ deliveries });
    },
  );

  // The unsigned form (Handoff before callback keys): nothing is delivered on it any more.
  app.post<{ Params: { workflowId: string } }>(
    '/api/calls/:workflowId',
    {
      onRequest: async (request) => {
        const workflowId = checkWorkflowId(request.params.workflowId);
        request.log.warn({ workflowId }, 'notification refused: a callback path without its callback key');
        throw callbackNotFound();
      },
    },
    async () => {
      throw callbackNotFound();
    },
  );
}

/**
 * Counts a POST's notifications by kind and by what became of their call's delivery, or all as
 * `unavailable` when the POST was answered 503 (Graph sends them again).
 */
function countNotifications(
  metrics: WebhookMetrics,
  notifications: GraphNotification[],
  reports: DeliveryReport[] | 'unavailable',
): void {
  const outcomeByCall = new Map<string, string>();
  if (reports !== 'unavailable') {
    for (const report of reports)
      for (const callId of report.callIds) outcomeByCall.set(callId, report.outcome);
  }
  for (const notification of notifications) {
    const outcome =
      reports === 'unavailable' ? reports : (outcomeByCall.get(notification.callId) ?? 'signalled');
    metrics.notifications.inc({ kind: notification.kind, outcome });
  }
}

function callbackNotFound(): HttpError {
  return new HttpError(404, 'not_found', 'no such callback');
}

/**
 * The answer to a refused token: "refused" or "retry later", nothing more (issue 9.6). The reason,
 * with the issuer, audience, tenant or fetch error it names, goes to the log for the operator.
 */
function refusal(error: NotificationAuthError, log: FastifyBaseLogger): HttpError {
  if (error.statusCode === 503) {
    log.error(
      { reason: error.reason, detail: error.message },
      'notification not accepted: no signing keys yet',
    );
    return new HttpError(503, 'temporarily_unavailable', 'notification not accepted now: retry later', {
      headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
    });
  }
  log.warn({ reason: error.reason, detail: error.message }, 'notification refused: invalid token');
  // RFC 6750 §3.1: no error code when the request carried no credentials at all.
  const challenge = error.reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"';
  return new HttpError(401, 'notification_refused', 'notification refused', {
    headers: { 'www-authenticate': challenge },
  });
}
