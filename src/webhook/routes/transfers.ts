/**
 * The HTTP API other services use to start, inspect and cancel transfers. Thin: each route is
 * one or two Temporal client calls with the webhook's deadline, and their errors mapped to HTTP.
 */
import type { FastifyInstance } from 'fastify';
import { transferStateQuery, transferWorkflowId } from '../../workflows/definitions.js';
import {
  TRANSFER_FAILED,
  type TransferResult,
  type TransferSnapshot,
} from '../../workflows/transfer/types.js';
import { apiRouteSchemas } from '../api-schemas.js';
import { requireApiToken } from '../api-token.js';
import type { WebhookDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { idempotencyKeyOf, requestHashOf, startOnce } from '../idempotent-start.js';
import { type RunStatus, runStatusOf } from '../run-status.js';
import { isWorkflowNotFound, type TemporalCaller } from '../temporal-calls.js';
import { parseTransferRequest } from '../transfer-request.js';
import {
  TRANSFER_WORKFLOW_TYPE,
  type TransferWorkflow,
  temporalUiUrlFor,
  transferStartOptions,
} from '../transfer-start.js';
import { checkWorkflowId } from '../workflow-id.js';

export interface TransferRoutesOptions {
  deps: WebhookDeps;
  temporalCalls: TemporalCaller;
}

/** What `GET /api/transfers/:workflowId` answers. */
export type TransferStatus = RunStatus<TransferSnapshot, TransferResult>;

export async function transferRoutes(
  app: FastifyInstance,
  { deps, temporalCalls }: TransferRoutesOptions,
): Promise<void> {
  const temporal = temporalCalls.client;

  requireApiToken(app, deps.apiToken, 'transfers');

  const notFound = (workflowId: string) =>
    new HttpError(404, 'transfer_not_found', `no transfer with workflow id ${workflowId}`);

  /** The description of a transfer workflow; 404 for an unknown id or a workflow of another type. */
  async function describeTransfer(workflowId: string) {
    const handle = temporal.workflow.getHandle<TransferWorkflow>(workflowId);
    const description = await temporalCalls
      .call(`a description of ${workflowId}`, () => handle.describe())
      .catch((error: unknown) => {
        throw isWorkflowNotFound(error) ? notFound(workflowId) : error;
      });
    // A bot call (`call-…`) or any other workflow is not a transfer: it is not this API's to show or cancel.
    if (description.type !== TRANSFER_WORKFLOW_TYPE) throw notFound(workflowId);
    return description;
  }

  app.post('/api/transfers', { schema: apiRouteSchemas.startTransfer }, async (request, reply) => {
    if (request.body === undefined) {
      throw new HttpError(
        415,
        'unsupported_media_type',
        'Content-Type must be application/json, with a JSON body',
      );
    }
    const key = idempotencyKeyOf(request);
    const transfer = parseTransferRequest(request.body);
    const workflowId = transferWorkflowId(transfer.callId);
    const started = await startOnce({
      temporalCalls,
      workflowId,
      what: 'transfer',
      ...(key !== undefined ? { idempotency: { key, requestHash: requestHashOf(transfer) } } : {}),
      start: async (memo) => {
        const handle = await temporalCalls.call(`the transfer of call ${transfer.callId}`, () =>
          temporal.workflow.start<TransferWorkflow>(TRANSFER_WORKFLOW_TYPE, {
            ...transferStartOptions(deps, transfer),
            memo,
            // A failed transfer may be retried; a running or completed one may not.
            workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          }),
        );
        return handle.firstExecutionRunId;
      },
      conflict: () =>
        new HttpError(
          409,
          'transfer_exists',
          `a transfer of call ${transfer.callId} is already running or has completed (workflow ${workflowId}); GET /api/transfers/${workflowId} shows it`,
        ),
    });
    request.log.info(
      { workflowId, runId: started.runId, replayed: !started.created },
      started.created ? 'transfer started through the API' : 'transfer start repeated: same run',
    );
    const uiUrl = temporalUiUrlFor(deps, workflowId);
    return reply
      .code(started.created ? 201 : 200)
      .header('location', `/api/transfers/${encodeURIComponent(workflowId)}`)
      .send({ workflowId, runId: started.runId, ...(uiUrl ? { uiUrl } : {}) });
  });

  app.get<{ Params: { workflowId: string } }>(
    '/api/transfers/:workflowId',
    { schema: apiRouteSchemas.getTransfer },
    async (request) => {
      const workflowId = checkWorkflowId(request.params.workflowId);
      const description = await describeTransfer(workflowId);
      const uiUrl = temporalUiUrlFor(deps, workflowId);
      return runStatusOf<TransferSnapshot, TransferResult>({
        client: temporal,
        temporalCalls,
        workflowId,
        description,
        ...(uiUrl ? { uiUrl } : {}),
        stateQuery: transferStateQuery,
        failureType: TRANSFER_FAILED,
        log: request.log,
      });
    },
  );

  app.post<{ Params: { workflowId: string } }>(
    '/api/transfers/:workflowId/cancel',
    { schema: apiRouteSchemas.cancelTransfer },
    async (request, reply) => {
      const workflowId = checkWorkflowId(request.params.workflowId);
      const description = await describeTransfer(workflowId);
      if (description.status.name !== 'RUNNING') {
        throw new HttpError(
          409,
          'transfer_finished',
          `the transfer ${workflowId} has already finished (${description.status.name}); there is nothing to cancel`,
        );
      }
      const run = temporal.workflow.getHandle<TransferWorkflow>(workflowId, description.runId);
      await temporalCalls
        .call(`the cancellation of ${workflowId}`, () => run.cancel())
        .catch((error: unknown) => {
          throw isWorkflowNotFound(error) ? notFound(workflowId) : error;
        });
      request.log.info({ workflowId, runId: description.runId }, 'transfer cancellation requested');
      return reply.code(202).send({ workflowId, runId: description.runId, status: 'CANCEL_REQUESTED' });
    },
  );
}
