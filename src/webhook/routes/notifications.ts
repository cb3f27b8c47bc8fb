/**
 * Graph's notifications in, workflow signals out (design.md, "Routing notifications to
 * workflows"). Every POST is verified before its body is read, parsed with the src/graph
 * schemas, and acknowledged only after Temporal accepted every signal it produced:
 *
 * - 202: delivered, or addressed to a workflow that is unknown or finished (logged; a retry
 *   would never succeed, so Graph must not retry forever);
 * - 503 + Retry-After: Temporal could not take it in time, so Graph retries;
 * - 401/400: the token or the body is wrong; nothing was signalled.
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
import {
  graphNotificationsSignal,
  type NotificationDelivery,
  transferWorkflowId,
} from '../../workflows/definitions.js';
import type { WebhookDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { NotificationAuthError, type NotificationVerifier } from '../notification-auth.js';
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
  { deps, temporalCalls, verifyNotification }: NotificationRoutesOptions,
): Promise<void> {
  const temporal = temporalCalls.client;

  // Before the body is read: an unsigned request costs no parsing and signals nothing.
  app.addHook('onRequest', async (request) => {
    try {
      const token = await verifyNotification(request.headers.authorization);
      request.log.debug({ issuer: token.issuer, keyId: token.keyId }, 'notification token verified');
    } catch (error) {
      if (!(error instanceof NotificationAuthError)) throw error;
      const headers: Record<string, string> =
        error.statusCode === 401
          ? { 'www-authenticate': `Bearer error="invalid_token", error_description="${error.reason}"` }
          : { 'retry-after': String(RETRY_AFTER_SECONDS) };
      throw new HttpError(
        error.statusCode,
        `token_${error.reason}`,
        `notification refused: ${error.message}`,
        {
          headers,
          cause: error,
        },
      );
    }
  });

  async function signalWorkflow(
    workflowId: string,
    notifications: GraphNotification[],
    receivedAt: string,
    log: FastifyBaseLogger,
    /** The workflow's callback URL the notifications arrived at; unset on the bot's URL. */
    callbackUri?: string,
  ): Promise<DeliveryReport> {
    const callIds = [...new Set(notifications.map((notification) => notification.callId))];
    const report = { workflowId, callIds, notifications: notifications.length };
    const delivery: NotificationDelivery = { notifications, receivedAt };
    try {
      await temporalCalls.call(`the notifications for workflow ${workflowId}`, () =>
        temporal.workflow.getHandle(workflowId).signal(graphNotificationsSignal, delivery),
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

  async function startTransfer(
    notification: CallNotification,
    receivedAt: string,
    log: FastifyBaseLogger,
  ): Promise<DeliveryReport> {
    const { callId } = notification;
    const workflowId = transferWorkflowId(callId);
    const report = { workflowId, callIds: [callId], notifications: 1 };
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
      await temporalCalls.call(`the incoming call ${callId}`, () =>
        temporal.workflow.signalWithStart<TransferWorkflow, [NotificationDelivery]>(TRANSFER_WORKFLOW_TYPE, {
          ...start,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          signal: graphNotificationsSignal,
          signalArgs: [{ notifications: [notification], receivedAt }],
        }),
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

  /** The bot's registered URL: incoming calls, and anything Graph sends without a callback of ours. */
  app.post('/api/calls', async (request, reply) => {
    requireJsonBody(request);
    const notifications = parseRoutableBody(request.body);
    const receivedAt = new Date().toISOString();
    // Incoming calls first: a later notification in the same batch may be for the same call.
    const started = await settleAll(
      notifications
        .filter(isIncomingCall)
        .map((notification) => startTransfer(notification, receivedAt, request.log)),
    );
    const others = groupByCall(notifications.filter((notification) => !isIncomingCall(notification)));
    const signalled = await settleAll(
      [...others].map(([callId, group]) =>
        signalWorkflow(transferWorkflowId(callId), group, receivedAt, request.log),
      ),
    );
    return reply.code(202).send({ deliveries: [...started, ...signalled] });
  });

  /** Callbacks of calls a workflow answered or created: the path names the workflow. */
  app.post<{ Params: { workflowId: string } }>(
    '/api/calls/:workflowId',
    {
      // Checked before the body is read, after the token (hooks run in order).
      onRequest: async (request) => {
        checkWorkflowId(request.params.workflowId);
      },
    },
    async (request, reply) => {
      const workflowId = checkWorkflowId(request.params.workflowId);
      requireJsonBody(request);
      const notifications = parseRoutableBody(request.body);
      const callbackUri = `${deps.publicBaseUrl.replace(/\/+$/, '')}${request.url.split('?')[0]}`;
      const report = await signalWorkflow(
        workflowId,
        notifications,
        new Date().toISOString(),
        request.log,
        callbackUri,
      );
      return reply.code(202).send({ deliveries: [report] });
    },
  );
}
