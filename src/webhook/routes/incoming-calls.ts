/**
 * Redirect or reject an incoming call without answering it (issue 11.3): each request starts the
 * call's one `incomingCall` workflow (`incoming-<callId>`), so a repeated request cannot act
 * twice; `GET` shows what became of the call.
 */
import type { WorkflowStartOptions } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describeIdentity } from '../../graph/index.js';
import { HandoffCallIds, HandoffFlow, HandoffTransferState } from '../../temporal/search-attributes.js';
import {
  INCOMING_CALL_WORKFLOW_TYPE,
  type IncomingCallAction,
  type IncomingCallResult,
  type IncomingCallSnapshot,
  incomingCallStateQuery,
  incomingCallWorkflowId,
} from '../../workflows/incoming-call/definitions.js';
import type { incomingCall } from '../../workflows/incoming-call/incoming-call.js';
import { apiRouteSchemas } from '../api-schemas.js';
import { requireApiToken } from '../api-token.js';
import { callbackUriFor } from '../callback-binding.js';
import type { WebhookDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { idempotencyKeyOf, requestHashOf, startOnce } from '../idempotent-start.js';
import { incomingCallIdOf, parseRedirectRequest, parseRejectRequest } from '../incoming-call-request.js';
import { type RunStatus, runStatusOf } from '../run-status.js';
import { isWorkflowNotFound, type TemporalCaller } from '../temporal-calls.js';
import { temporalUiUrlFor } from '../transfer-start.js';

export type IncomingCallWorkflow = typeof incomingCall;

/** What `GET /api/incoming-calls/:callId` answers. */
export type IncomingCallStatus = RunStatus<IncomingCallSnapshot, IncomingCallResult>;

export interface IncomingCallRoutesOptions {
  deps: WebhookDeps;
  temporalCalls: TemporalCaller;
}

/** The workflow never fails with a typed failure: its outcomes are results. */
const NO_FAILURE_TYPE = 'IncomingCallFailed';

function describeAction(action: IncomingCallAction): string {
  return action.kind === 'redirect'
    ? `Redirect to ${action.targets.map((target) => describeIdentity(target.identity)).join(', ')}`
    : `Reject (${action.reason})`;
}

export function incomingCallStartOptions(
  context: Pick<WebhookDeps, 'publicBaseUrl' | 'callbackSecrets' | 'taskQueue'>,
  callId: string,
  action: IncomingCallAction,
): Omit<WorkflowStartOptions<IncomingCallWorkflow>, 'workflowIdReusePolicy'> {
  const workflowId = incomingCallWorkflowId(callId);
  return {
    workflowId,
    taskQueue: context.taskQueue,
    args: [{ callId, action, callbackUri: callbackUriFor(context, workflowId) }],
    typedSearchAttributes: [
      { key: HandoffCallIds, value: [callId] },
      { key: HandoffFlow, value: action.kind },
      { key: HandoffTransferState, value: action.kind === 'redirect' ? 'redirecting' : 'rejecting' },
    ],
    staticSummary: `${describeAction(action)}: incoming call ${callId}, not answered`,
  };
}

export async function incomingCallRoutes(
  app: FastifyInstance,
  { deps, temporalCalls }: IncomingCallRoutesOptions,
): Promise<void> {
  const temporal = temporalCalls.client;
  requireApiToken(app, deps.apiToken, 'incoming calls');

  async function start(request: FastifyRequest<{ Params: { callId: string } }>, action: IncomingCallAction) {
    const callId = incomingCallIdOf(request.params.callId);
    const workflowId = incomingCallWorkflowId(callId);
    const key = idempotencyKeyOf(request);
    const started = await startOnce({
      temporalCalls,
      workflowId,
      what: action.kind,
      ...(key !== undefined ? { idempotency: { key, requestHash: requestHashOf({ callId, action }) } } : {}),
      start: async (memo) => {
        const handle = await temporalCalls.call(`the ${action.kind} of call ${callId}`, () =>
          temporal.workflow.start<IncomingCallWorkflow>(INCOMING_CALL_WORKFLOW_TYPE, {
            ...incomingCallStartOptions(deps, callId, action),
            memo,
            // An incoming call is answered once: redirected, rejected, or neither; never twice.
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          }),
        );
        return handle.firstExecutionRunId;
      },
      conflict: () =>
        new HttpError(
          409,
          'incoming_call_handled',
          `incoming call ${callId} was already redirected or rejected (workflow ${workflowId}); GET /api/incoming-calls/${callId} shows what became of it`,
        ),
    });
    request.log.info(
      { workflowId, runId: started.runId, action: action.kind, replayed: !started.created },
      started.created
        ? `incoming call ${action.kind} started`
        : `incoming call ${action.kind} repeated: same run`,
    );
    const uiUrl = temporalUiUrlFor(deps, workflowId);
    return {
      status: started.created ? 201 : 200,
      location: `/api/incoming-calls/${encodeURIComponent(callId)}`,
      body: { workflowId, runId: started.runId, ...(uiUrl ? { uiUrl } : {}) },
    };
  }

  const requireBody = (body: unknown) => {
    if (body === undefined) {
      throw new HttpError(
        415,
        'unsupported_media_type',
        'Content-Type must be application/json, with a JSON body',
      );
    }
  };

  app.post<{ Params: { callId: string } }>(
    '/api/incoming-calls/:callId/redirect',
    { schema: apiRouteSchemas.redirectIncomingCall },
    async (request, reply) => {
      requireBody(request.body);
      const started = await start(request, parseRedirectRequest(request.body));
      return reply.code(started.status).header('location', started.location).send(started.body);
    },
  );

  app.post<{ Params: { callId: string } }>(
    '/api/incoming-calls/:callId/reject',
    { schema: apiRouteSchemas.rejectIncomingCall },
    async (request, reply) => {
      requireBody(request.body);
      const started = await start(request, parseRejectRequest(request.body));
      return reply.code(started.status).header('location', started.location).send(started.body);
    },
  );

  app.get<{ Params: { callId: string } }>(
    '/api/incoming-calls/:callId',
    { schema: apiRouteSchemas.getIncomingCall },
    async (request) => {
      const callId = incomingCallIdOf(request.params.callId);
      const workflowId = incomingCallWorkflowId(callId);
      const notFound = () =>
        new HttpError(
          404,
          'incoming_call_not_found',
          `incoming call ${callId} was neither redirected nor rejected through this API`,
        );
      const description = await temporalCalls
        .call(`a description of ${workflowId}`, () => temporal.workflow.getHandle(workflowId).describe())
        .catch((error: unknown) => {
          throw isWorkflowNotFound(error) ? notFound() : error;
        });
      if (description.type !== INCOMING_CALL_WORKFLOW_TYPE) throw notFound();
      const uiUrl = temporalUiUrlFor(deps, workflowId);
      return runStatusOf<IncomingCallSnapshot, IncomingCallResult>({
        client: temporal,
        temporalCalls,
        workflowId,
        description,
        ...(uiUrl ? { uiUrl } : {}),
        stateQuery: incomingCallStateQuery,
        failureType: NO_FAILURE_TYPE,
        log: request.log,
      });
    },
  );
}
