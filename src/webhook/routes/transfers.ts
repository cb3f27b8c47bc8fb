/**
 * The HTTP API other services use to start, inspect and cancel transfers. Thin: each route is
 * one or two Temporal client calls with the webhook's deadline, and their errors mapped to HTTP.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { HandoffTransferState } from '../../temporal/search-attributes.js';
import { transferStateQuery, transferWorkflowId } from '../../workflows/definitions.js';
import { TRANSFER_FAILED } from '../../workflows/transfer.js';
import type { TransferResult, TransferSnapshot } from '../../workflows/types.js';
import { requireApiToken } from '../api-token.js';
import type { WebhookDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { isWorkflowAlreadyStarted, isWorkflowNotFound, type TemporalCaller } from '../temporal-calls.js';
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
export interface TransferStatus {
  workflowId: string;
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, … */
  status: string;
  /** The transfer's phase: from the live query while running, else from the HandoffTransferState search attribute. */
  phase?: string;
  /** The `transferState` query's answer, while running and a worker answered in time. */
  snapshot?: TransferSnapshot;
  /** Why there is no snapshot although the transfer runs (no worker polling, …). */
  snapshotError?: string;
  /** The workflow's result when it completed; for a failed transfer, the result it failed with. */
  result?: TransferResult;
  failure?: { message: string; type?: string };
  startTime: string;
  closeTime?: string;
  uiUrl?: string;
}

/** The failure a closed workflow ended with, and the TransferResult the transfer workflow attaches. */
function failureOf(error: unknown): { failure: { message: string; type?: string }; result?: TransferResult } {
  const cause = error instanceof WorkflowFailedError ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const [details] = cause.details ?? [];
    return {
      failure: { message: cause.message, ...(cause.type ? { type: cause.type } : {}) },
      ...(cause.type === TRANSFER_FAILED && details ? { result: details as TransferResult } : {}),
    };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { failure: { message, ...(cause instanceof Error ? { type: cause.name } : {}) } };
}

export async function transferRoutes(
  app: FastifyInstance,
  { deps, temporalCalls }: TransferRoutesOptions,
): Promise<void> {
  const temporal = temporalCalls.client;

  requireApiToken(app, deps.apiToken, 'transfers');

  const notFound = (workflowId: string) =>
    new HttpError(404, 'transfer_not_found', `no transfer with workflow id ${workflowId}`);

  app.post('/api/transfers', async (request, reply) => {
    if (request.body === undefined) {
      throw new HttpError(
        415,
        'unsupported_media_type',
        'Content-Type must be application/json, with a JSON body',
      );
    }
    const transfer = parseTransferRequest(request.body);
    const workflowId = transferWorkflowId(transfer.callId);
    try {
      const handle = await temporalCalls.call(`the transfer of call ${transfer.callId}`, () =>
        temporal.workflow.start<TransferWorkflow>(TRANSFER_WORKFLOW_TYPE, {
          ...transferStartOptions(deps, transfer),
          // A failed transfer may be retried; a running or completed one may not.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        }),
      );
      request.log.info({ workflowId, runId: handle.firstExecutionRunId }, 'transfer started through the API');
      const uiUrl = temporalUiUrlFor(deps, workflowId);
      return reply
        .code(201)
        .header('location', `/api/transfers/${encodeURIComponent(workflowId)}`)
        .send({ workflowId, runId: handle.firstExecutionRunId, ...(uiUrl ? { uiUrl } : {}) });
    } catch (error) {
      if (!isWorkflowAlreadyStarted(error)) throw error;
      throw new HttpError(
        409,
        'transfer_exists',
        `a transfer of call ${transfer.callId} is already running or has completed (workflow ${workflowId}); GET /api/transfers/${workflowId} shows it`,
      );
    }
  });

  app.get<{ Params: { workflowId: string } }>('/api/transfers/:workflowId', async (request) => {
    const workflowId = checkWorkflowId(request.params.workflowId);
    const handle = temporal.workflow.getHandle<TransferWorkflow>(workflowId);
    const description = await temporalCalls
      .call(`a description of ${workflowId}`, () => handle.describe())
      .catch((error: unknown) => {
        throw isWorkflowNotFound(error) ? notFound(workflowId) : error;
      });
    const status = description.status.name;
    const uiUrl = temporalUiUrlFor(deps, workflowId);
    const answer: TransferStatus = {
      workflowId,
      runId: description.runId,
      status,
      startTime: description.startTime.toISOString(),
      ...(description.closeTime ? { closeTime: description.closeTime.toISOString() } : {}),
      ...(uiUrl ? { uiUrl } : {}),
    };
    const recordedPhase = description.typedSearchAttributes.get(HandoffTransferState);
    if (recordedPhase) answer.phase = recordedPhase;

    const run = temporal.workflow.getHandle<TransferWorkflow>(workflowId, description.runId);
    if (status === 'RUNNING') {
      try {
        answer.snapshot = await temporalCalls.call(`the state of ${workflowId}`, () =>
          run.query(transferStateQuery),
        );
        answer.phase = answer.snapshot.phase;
      } catch (error) {
        // No worker polling, or it is slow: the description alone is still an answer.
        answer.snapshotError = error instanceof Error ? error.message : String(error);
        request.log.warn({ workflowId, err: error }, 'transfer state query failed');
      }
    } else if (status === 'COMPLETED') {
      answer.result = await temporalCalls.call(`the result of ${workflowId}`, () => run.result());
      answer.phase ??= answer.result.outcome;
    } else {
      try {
        await temporalCalls.call(`the outcome of ${workflowId}`, () => run.result());
      } catch (error) {
        if (error instanceof HttpError) throw error;
        Object.assign(answer, failureOf(error));
      }
    }
    return answer;
  });

  app.post<{ Params: { workflowId: string } }>(
    '/api/transfers/:workflowId/cancel',
    async (request, reply) => {
      const workflowId = checkWorkflowId(request.params.workflowId);
      const handle = temporal.workflow.getHandle<TransferWorkflow>(workflowId);
      const description = await temporalCalls
        .call(`a description of ${workflowId}`, () => handle.describe())
        .catch((error: unknown) => {
          throw isWorkflowNotFound(error) ? notFound(workflowId) : error;
        });
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
