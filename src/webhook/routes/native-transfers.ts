/**
 * Transfer an incoming call with Graph's own `call: transfer` (issue 11.1-2): the request starts
 * the call's one `nativeTransfer` workflow (`native-transfer-<callId>`), which answers the call
 * and transfers it, blind or after a consultation call; `GET` shows how far it got, and a
 * consultative transfer is completed or abandoned through its updates.
 */
import { randomUUID } from 'node:crypto';
import {
  type WorkflowHandle,
  type WorkflowStartOptions,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describeIdentity } from '../../graph/index.js';
import {
  HandoffCallIds,
  HandoffCallOwner,
  HandoffFlow,
  HandoffTransferState,
} from '../../temporal/search-attributes.js';
import {
  abandonNativeTransferUpdate,
  completeNativeTransferUpdate,
  NATIVE_TRANSFER_WORKFLOW_TYPE,
  type NativeTransferInput,
  type NativeTransferResult,
  type NativeTransferSnapshot,
  nativeTransferStateQuery,
  nativeTransferWorkflowId,
} from '../../workflows/native-transfer/definitions.js';
import type { nativeTransfer } from '../../workflows/native-transfer/native-transfer.js';
import { apiRouteSchemas } from '../api-schemas.js';
import { requireApiToken } from '../api-token.js';
import { callbackUriFor } from '../callback-binding.js';
import type { WebhookDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { idempotencyKeyOf, requestHashOf, startOnce } from '../idempotent-start.js';
import { incomingCallIdOf } from '../incoming-call-request.js';
import {
  type ParsedNativeTransfer,
  parseAbandonRequest,
  parseNativeTransferRequest,
} from '../native-transfer-request.js';
import { type RunStatus, runStatusOf } from '../run-status.js';
import { isWorkflowNotFound, type TemporalCaller } from '../temporal-calls.js';
import { temporalUiUrlFor } from '../transfer-start.js';

export type NativeTransferWorkflow = typeof nativeTransfer;

/** What `GET /api/incoming-calls/:callId/transfer` answers. */
export type NativeTransferStatus = RunStatus<NativeTransferSnapshot, NativeTransferResult>;

export interface NativeTransferRoutesOptions {
  deps: WebhookDeps;
  temporalCalls: TemporalCaller;
}

/** The workflow reports its outcomes as results; a failure type it never uses. */
const NO_FAILURE_TYPE = 'NativeTransferFailed';

/** The start options the API uses, for the Temporal client and tests alike. */
export function nativeTransferStartOptions(
  context: Pick<WebhookDeps, 'publicBaseUrl' | 'callbackSecrets' | 'taskQueue' | 'botAppId' | 'tenantId'>,
  callId: string,
  request: ParsedNativeTransfer,
): Omit<WorkflowStartOptions<NativeTransferWorkflow>, 'workflowIdReusePolicy'> {
  const workflowId = nativeTransferWorkflowId(callId);
  const input: NativeTransferInput = {
    callId,
    caller: request.caller ?? {},
    mode: request.mode,
    callbackUri: callbackUriFor(context, workflowId),
    botAppId: context.botAppId,
    ...(context.tenantId ? { tenantId: context.tenantId } : {}),
    ...(request.applicationInstance ? { applicationInstance: request.applicationInstance } : {}),
  };
  return {
    workflowId,
    taskQueue: context.taskQueue,
    args: [input],
    typedSearchAttributes: [
      { key: HandoffCallIds, value: [callId] },
      { key: HandoffFlow, value: `${request.mode.kind}-transfer` },
      { key: HandoffTransferState, value: 'answering' },
      { key: HandoffCallOwner, value: NATIVE_TRANSFER_WORKFLOW_TYPE },
    ],
    staticSummary: `${request.mode.kind === 'blind' ? 'Blind' : 'Consultative'} transfer of call ${callId} to ${describeIdentity(request.mode.target.identity)} (Graph call: transfer)`,
  };
}

export async function nativeTransferRoutes(
  app: FastifyInstance,
  { deps, temporalCalls }: NativeTransferRoutesOptions,
): Promise<void> {
  const temporal = temporalCalls.client;
  requireApiToken(app, deps.apiToken, 'native transfers');

  const requireBody = (body: unknown) => {
    if (body === undefined) {
      throw new HttpError(
        415,
        'unsupported_media_type',
        'Content-Type must be application/json, with a JSON body',
      );
    }
  };

  const notFound = (callId: string) =>
    new HttpError(
      404,
      'native_transfer_not_found',
      `incoming call ${callId} was not transferred through POST /api/incoming-calls/${callId}/transfer`,
    );

  async function describeTransfer(callId: string) {
    const workflowId = nativeTransferWorkflowId(callId);
    const description = await temporalCalls
      .call(`a description of ${workflowId}`, () => temporal.workflow.getHandle(workflowId).describe())
      .catch((error: unknown) => {
        throw isWorkflowNotFound(error) ? notFound(callId) : error;
      });
    if (description.type !== NATIVE_TRANSFER_WORKFLOW_TYPE) throw notFound(callId);
    return { workflowId, description };
  }

  app.post<{ Params: { callId: string } }>(
    '/api/incoming-calls/:callId/transfer',
    { schema: apiRouteSchemas.startNativeTransfer },
    async (request, reply) => {
      requireBody(request.body);
      const parsed = parseNativeTransferRequest(request.body);
      const callId = incomingCallIdOf(request.params.callId);
      const workflowId = nativeTransferWorkflowId(callId);
      const key = idempotencyKeyOf(request);
      const started = await startOnce({
        temporalCalls,
        workflowId,
        what: 'transfer',
        ...(key !== undefined
          ? { idempotency: { key, requestHash: requestHashOf({ callId, ...parsed }) } }
          : {}),
        start: async (memo) => {
          const handle = await temporalCalls.call(`the transfer of call ${callId}`, () =>
            temporal.workflow.start<NativeTransferWorkflow>(NATIVE_TRANSFER_WORKFLOW_TYPE, {
              ...nativeTransferStartOptions(deps, callId, parsed),
              memo,
              // A call is answered and transferred once.
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
            }),
          );
          return handle.firstExecutionRunId;
        },
        conflict: () =>
          new HttpError(
            409,
            'native_transfer_exists',
            `incoming call ${callId} is being or was transferred already (workflow ${workflowId}); GET /api/incoming-calls/${callId}/transfer shows how far it got`,
          ),
      });
      request.log.info(
        { workflowId, runId: started.runId, mode: parsed.mode.kind, replayed: !started.created },
        started.created ? 'native transfer started' : 'native transfer repeated: same run',
      );
      const uiUrl = temporalUiUrlFor(deps, workflowId);
      return reply
        .code(started.created ? 201 : 200)
        .header('location', `/api/incoming-calls/${encodeURIComponent(callId)}/transfer`)
        .send({ workflowId, runId: started.runId, ...(uiUrl ? { uiUrl } : {}) });
    },
  );

  app.get<{ Params: { callId: string } }>(
    '/api/incoming-calls/:callId/transfer',
    { schema: apiRouteSchemas.getNativeTransfer },
    async (request) => {
      const callId = incomingCallIdOf(request.params.callId);
      const { workflowId, description } = await describeTransfer(callId);
      const uiUrl = temporalUiUrlFor(deps, workflowId);
      return runStatusOf<NativeTransferSnapshot, NativeTransferResult>({
        client: temporal,
        temporalCalls,
        workflowId,
        description,
        ...(uiUrl ? { uiUrl } : {}),
        stateQuery: nativeTransferStateQuery,
        failureType: NO_FAILURE_TYPE,
        log: request.log,
      });
    },
  );

  /** Runs complete or abandon: 200 with the snapshot, 409 when the workflow refused it or has finished. */
  async function decide(
    request: FastifyRequest<{ Params: { callId: string } }>,
    what: 'complete' | 'abandon',
    run: (
      handle: WorkflowHandle<NativeTransferWorkflow>,
      updateId: string,
    ) => Promise<NativeTransferSnapshot>,
  ): Promise<NativeTransferSnapshot> {
    const callId = incomingCallIdOf(request.params.callId);
    const { workflowId, description } = await describeTransfer(callId);
    if (description.status.name !== 'RUNNING') {
      throw new HttpError(
        409,
        'native_transfer_finished',
        `the transfer of call ${callId} has already finished (${description.status.name}); GET /api/incoming-calls/${callId}/transfer shows how it ended`,
      );
    }
    const handle = temporal.workflow.getHandle<NativeTransferWorkflow>(workflowId, description.runId);
    const updateId = idempotencyKeyOf(request) ?? randomUUID();
    try {
      const snapshot = await temporalCalls.call(`the ${what} of the transfer of call ${callId}`, () =>
        run(handle, updateId),
      );
      request.log.info({ workflowId, updateId, what }, `native transfer ${what} accepted`);
      return snapshot;
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        throw new HttpError(
          409,
          'native_transfer_refused',
          `the transfer of call ${callId} refused the ${what}: ${error.cause?.message ?? error.message}`,
        );
      }
      if (isWorkflowNotFound(error)) {
        throw new HttpError(
          409,
          'native_transfer_finished',
          `the transfer of call ${callId} has already finished`,
        );
      }
      throw error;
    }
  }

  app.post<{ Params: { callId: string } }>(
    '/api/incoming-calls/:callId/transfer/complete',
    { schema: apiRouteSchemas.completeNativeTransfer },
    async (request) =>
      decide(request, 'complete', (handle, updateId) =>
        handle.executeUpdate(completeNativeTransferUpdate, { args: [], updateId }),
      ),
  );

  app.post<{ Params: { callId: string } }>(
    '/api/incoming-calls/:callId/transfer/abandon',
    { schema: apiRouteSchemas.abandonNativeTransfer },
    async (request) => {
      const body = parseAbandonRequest(request.body);
      return decide(request, 'abandon', (handle, updateId) =>
        handle.executeUpdate(abandonNativeTransferUpdate, { args: [body], updateId }),
      );
    },
  );
}
