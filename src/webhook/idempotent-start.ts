/**
 * Starts that a client may retry (issue 9.5): `POST /api/transfers` and `POST /api/bot-calls` after a
 * 503 or a lost answer. The run remembers, in its memo, the key it was started with and a hash of the
 * request; a retry with the same key and the same request answers that run (200) instead of starting
 * another, so a retry never dials a second time. The same key with another request is refused with
 * 422: the key is the client's promise that the request is the same one (as in the IETF
 * Idempotency-Key draft), and answering the first run would hide that the second was never made.
 */
import { createHash } from 'node:crypto';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { FastifyRequest } from 'fastify';
import { canonicalJson } from '../workflows/canonical-json.js';
import { HttpError } from './errors.js';
import { isWorkflowAlreadyStarted, isWorkflowNotFound, type TemporalCaller } from './temporal-calls.js';

/** The memo field a run started with an idempotency key carries. */
export const IDEMPOTENCY_MEMO = 'handoffIdempotency';

export interface IdempotencyMemo {
  key: string;
  /** sha256 (hex) of the request in canonical JSON. */
  requestHash: string;
}

/** The `Idempotency-Key` header, if any; a 400 when it is not one short visible-ASCII value. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(header)) {
    throw new HttpError(
      400,
      'invalid_idempotency_key',
      'Idempotency-Key must be one value of 1-200 visible ASCII characters, e.g. a uuid',
    );
  }
  return header;
}

export function requestHashOf(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

export interface StartOnceOptions {
  temporalCalls: TemporalCaller;
  workflowId: string;
  /** What the run is, for messages: 'transfer', 'bot call'. */
  what: string;
  /** Without a key a start is not idempotent: an existing run is `conflict()`. */
  idempotency?: IdempotencyMemo;
  /** Starts the run with this memo; returns its run id. Throws WorkflowExecutionAlreadyStartedError. */
  start(memo: Record<string, unknown>): Promise<string>;
  /** The error for an existing run that this request did not start (409). */
  conflict(): HttpError;
}

export interface StartedRun {
  runId: string;
  /** False when an earlier request with the same key started it. */
  created: boolean;
}

function memoOf(description: WorkflowExecutionDescription): IdempotencyMemo | undefined {
  const memo = description.memo?.[IDEMPOTENCY_MEMO];
  if (memo === null || typeof memo !== 'object') return undefined;
  const { key, requestHash } = memo as Partial<IdempotencyMemo>;
  return typeof key === 'string' && typeof requestHash === 'string' ? { key, requestHash } : undefined;
}

/** The existing run when it was started with this key; 422 when with this key and another request. */
function sameRequest(
  description: WorkflowExecutionDescription,
  idempotency: IdempotencyMemo,
  options: StartOnceOptions,
): StartedRun | undefined {
  const memo = memoOf(description);
  if (memo?.key !== idempotency.key) return undefined;
  if (memo.requestHash !== idempotency.requestHash) {
    throw new HttpError(
      422,
      'idempotency_key_reused',
      `this Idempotency-Key (or id) already started the ${options.what} ${options.workflowId} with a different request; send the original request to see that run, or use a new key for a new ${options.what}`,
    );
  }
  return { runId: description.runId, created: false };
}

/**
 * Starts the run, or answers the one this key already started. The existing run is looked up first
 * because a run that failed may be started again under the same workflow id (the routes use
 * ALLOW_DUPLICATE_FAILED_ONLY): a retry must answer the failed run, not dial again.
 */
export async function startOnce(options: StartOnceOptions): Promise<StartedRun> {
  const { temporalCalls, workflowId, idempotency } = options;
  const describe = () =>
    temporalCalls
      .call(`a description of ${workflowId}`, () =>
        temporalCalls.client.workflow.getHandle(workflowId).describe(),
      )
      .catch((error: unknown) => {
        if (isWorkflowNotFound(error)) return undefined;
        throw error;
      });
  if (idempotency) {
    const existing = await describe();
    const replay = existing && sameRequest(existing, idempotency, options);
    if (replay) return replay;
  }
  try {
    const runId = await options.start(idempotency ? { [IDEMPOTENCY_MEMO]: idempotency } : {});
    return { runId, created: true };
  } catch (error) {
    if (!isWorkflowAlreadyStarted(error)) throw error;
    // Another request started it meanwhile: a concurrent retry with this key, or somebody else.
    const existing = idempotency ? await describe() : undefined;
    const replay = existing && idempotency && sameRequest(existing, idempotency, options);
    if (replay) return replay;
    throw options.conflict();
  }
}
