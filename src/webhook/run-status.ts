/**
 * What `GET /api/transfers/:id` and `GET /api/bot-calls/:id` answer about one workflow run: its
 * Temporal status, its phase, the live snapshot while it runs, and its result or failure once it
 * closed. One shape for every flow.
 */
import { type Client, type WorkflowExecutionDescription, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { QueryDefinition } from '@temporalio/workflow';
import type { FastifyBaseLogger } from 'fastify';
import type { RunStatus } from '../client/types.js';
import { HandoffTransferState } from '../temporal/search-attributes.js';
import { HttpError } from './errors.js';
import type { TemporalCaller } from './temporal-calls.js';

/** The answer's shape is the public contract of the API, declared once for the typed client. */
export type { RunStatus } from '../client/types.js';

export interface RunStatusOptions<Snapshot> {
  client: Client;
  temporalCalls: TemporalCaller;
  workflowId: string;
  description: WorkflowExecutionDescription;
  uiUrl?: string;
  stateQuery: QueryDefinition<Snapshot>;
  /** The ApplicationFailure type whose first detail is the flow's result (TransferFailed, …). */
  failureType: string;
  log: FastifyBaseLogger;
}

/** The failure a closed workflow ended with, and the result the flow attached to it. */
function failureOf<Result>(
  error: unknown,
  failureType: string,
): Pick<RunStatus<unknown, Result>, 'failure' | 'result'> {
  const cause = error instanceof WorkflowFailedError ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    const [details] = cause.details ?? [];
    return {
      failure: { message: cause.message, ...(cause.type ? { type: cause.type } : {}) },
      ...(cause.type === failureType && details ? { result: details as Result } : {}),
    };
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  return { failure: { message, ...(cause instanceof Error ? { type: cause.name } : {}) } };
}

export async function runStatusOf<Snapshot extends { phase: string }, Result extends { outcome: string }>(
  options: RunStatusOptions<Snapshot>,
): Promise<RunStatus<Snapshot, Result>> {
  const { client, temporalCalls, workflowId, description } = options;
  const status = description.status.name;
  const answer: RunStatus<Snapshot, Result> = {
    workflowId,
    runId: description.runId,
    status,
    startTime: description.startTime.toISOString(),
    ...(description.closeTime ? { closeTime: description.closeTime.toISOString() } : {}),
    ...(options.uiUrl ? { uiUrl: options.uiUrl } : {}),
  };
  const recordedPhase = description.typedSearchAttributes.get(HandoffTransferState);
  if (recordedPhase) answer.phase = recordedPhase;

  const run = client.workflow.getHandle(workflowId, description.runId);
  if (status === 'RUNNING') {
    try {
      answer.snapshot = await temporalCalls.call(`the state of ${workflowId}`, () =>
        run.query(options.stateQuery),
      );
      answer.phase = answer.snapshot.phase;
    } catch (error) {
      // No worker polling, or it is slow: the description alone is still an answer.
      answer.snapshotError = error instanceof Error ? error.message : String(error);
      options.log.warn({ workflowId, err: error }, 'state query failed');
    }
  } else if (status === 'COMPLETED') {
    answer.result = (await temporalCalls.call(`the result of ${workflowId}`, () => run.result())) as Result;
    answer.phase ??= answer.result.outcome;
  } else {
    try {
      await temporalCalls.call(`the outcome of ${workflowId}`, () => run.result());
    } catch (error) {
      if (error instanceof HttpError) throw error;
      Object.assign(answer, failureOf<Result>(error, options.failureType));
    }
  }
  return answer;
}
