/**
 * The HTTP API for calls the bot holds (issue 5): create or join a call (`botCall` workflow), then
 * invite into it, transfer a call into it, move a participant into it, or hang it up. Operations
 * are Temporal updates on the call's workflow: the workflow's validator refuses what cannot work
 * before anything reaches Graph, and the answer is the operation's outcome.
 */
import { randomUUID } from 'node:crypto';
import { type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { CancelledFailure, type SearchAttributePair, type UpdateDefinition } from '@temporalio/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeIdentity } from '../../graph/index.js';
import { HandoffFlow, HandoffTransferState } from '../../temporal/search-attributes.js';
import type { botCall } from '../../workflows/bot-call/bot-call.js';
import {
  BOT_CALL_FAILED,
  BOT_CALL_WORKFLOW_TYPE,
  botCallStateQuery,
  botCallWorkflowId,
  hangUpSignal,
  inviteParticipantsUpdate,
  moveParticipantUpdate,
  transferIntoCallUpdate,
  transferParticipantUpdate,
} from '../../workflows/bot-call/definitions.js';
import type {
  BotCallInput,
  BotCallResult,
  BotCallSnapshot,
  CallRequest,
  OperationOutcome,
} from '../../workflows/bot-call/types.js';
import { apiRouteSchemas } from '../api-schemas.js';
import { requireApiToken } from '../api-token.js';
import {
  parseBotCallStart,
  parseInviteRequest,
  parseMoveParticipantRequest,
  parseTransferIntoCallRequest,
  parseTransferParticipantRequest,
} from '../call-request.js';
import type { WebhookDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { idempotencyKeyOf, requestHashOf, startOnce } from '../idempotent-start.js';
import { type RunStatus, runStatusOf } from '../run-status.js';
import { isWorkflowNotFound, type TemporalCaller, TemporalUnavailableError } from '../temporal-calls.js';
import { callbackUriFor, temporalUiUrlFor } from '../transfer-start.js';
import { checkWorkflowId, isValidWorkflowId } from '../workflow-id.js';

export type BotCallWorkflow = typeof botCall;

/** Time the workflow gets to accept or refuse an operation (its validator runs on a worker). */
export const OPERATION_ACCEPT_TIMEOUT_MS = 10_000;
/**
 * Time the client waits for an accepted operation's outcome. The workflow waits up to its
 * operation and roster timeouts (tens of seconds), far beyond the 3 s a signal gets.
 */
export const OPERATION_RESULT_TIMEOUT_MS = 60_000;

export interface CallsApiOptions {
  deps: WebhookDeps;
  temporalCalls: TemporalCaller;
}

/** What `GET /api/bot-calls/:workflowId` answers. */
export type BotCallStatus = RunStatus<BotCallSnapshot, BotCallResult>;

/** `202 Accepted` for an operation that was accepted but had no outcome within OPERATION_RESULT_TIMEOUT_MS. */
export interface OperationPending {
  workflowId: string;
  updateId: string;
  status: 'ACCEPTED';
  message: string;
}

/** The summary operators see in the Temporal UI's list of runs. */
function describeCallRequest(request: CallRequest): string {
  switch (request.kind) {
    case 'p2p':
      return `P2P call to ${describeIdentity(request.target)}`;
    case 'pstn':
      return `PSTN call to ${request.phoneNumber} from application instance ${request.applicationInstance.id}`;
    case 'groupCall':
      return `Group call with ${request.targets.map((target) => describeIdentity(target)).join(', ')}`;
    case 'meeting':
      return `${request.guest ? `Join as guest ${request.guest.displayName}` : 'Join'} meeting chat ${request.chatInfo.threadId}`;
    case 'joinMeetingId':
      return `Join meeting ${request.joinMeetingId}${request.passcode ? ' (with passcode)' : ''}`;
  }
}

/** The message a refused or failed update carries: the validator's or handler's own words. */
function updateFailureMessage(error: WorkflowUpdateFailedError): string {
  return error.cause?.message ?? error.message;
}

/**
 * An optional `Idempotency-Key` becomes the update id: Temporal runs an update id once per run, so
 * a client that retries after a 503 or a lost answer does not invite anybody twice.
 */
function updateIdOf(request: FastifyRequest): string {
  return idempotencyKeyOf(request) ?? randomUUID();
}

/**
 * The workflow id of a new bot call: `call-<id>`, else `call-<Idempotency-Key>` (so a retry finds the
 * run its first attempt started), else a fresh uuid.
 */
function botCallIdOf(id: string | undefined, key: string | undefined): string {
  if (id !== undefined) return botCallWorkflowId(id);
  if (key === undefined) return botCallWorkflowId(randomUUID());
  const workflowId = botCallWorkflowId(key);
  if (!isValidWorkflowId(workflowId)) {
    throw new HttpError(
      400,
      'invalid_idempotency_key',
      "without an id, the Idempotency-Key of POST /api/bot-calls names the call (call-<key>): use letters, digits, '.', '_', ':' or '-', at most 190 characters, e.g. a uuid",
    );
  }
  return workflowId;
}

export async function callsApiRoutes(
  app: FastifyInstance,
  { deps, temporalCalls }: CallsApiOptions,
): Promise<void> {
  const temporal = temporalCalls.client;

  requireApiToken(app, deps.apiToken, 'bot-calls');

  const notFound = (workflowId: string) =>
    new HttpError(404, 'bot_call_not_found', `no bot call with workflow id ${workflowId}`);
  const finished = (workflowId: string, status: string) =>
    new HttpError(
      409,
      'bot_call_finished',
      `the bot call ${workflowId} has already finished (${status}); GET /api/bot-calls/${workflowId} shows how it ended`,
    );

  function requireJsonBody(request: FastifyRequest): unknown {
    if (request.body === undefined) {
      throw new HttpError(
        415,
        'unsupported_media_type',
        'Content-Type must be application/json, with a JSON body',
      );
    }
    return request.body;
  }

  /** The description of a bot call workflow; 404 for an unknown id or a workflow of another type. */
  async function describeBotCall(workflowId: string) {
    const handle = temporal.workflow.getHandle<BotCallWorkflow>(workflowId);
    const description = await temporalCalls
      .call(`a description of ${workflowId}`, () => handle.describe())
      .catch((error: unknown) => {
        throw isWorkflowNotFound(error) ? notFound(workflowId) : error;
      });
    if (description.type !== BOT_CALL_WORKFLOW_TYPE) throw notFound(workflowId);
    return description;
  }

  /** A handle on the running run of a bot call; 404 unknown, 409 finished. */
  async function runningBotCall(
    workflowId: string,
  ): Promise<{ run: WorkflowHandle<BotCallWorkflow>; runId: string }> {
    const description = await describeBotCall(workflowId);
    if (description.status.name !== 'RUNNING') throw finished(workflowId, description.status.name);
    const { runId } = description;
    return { run: temporal.workflow.getHandle<BotCallWorkflow>(workflowId, runId), runId };
  }

  /**
   * Runs one operation update and answers its outcome: 200 with the OperationOutcome, 400 when
   * the workflow's validator refused it (nothing was sent to Graph), 202 when it had no outcome in
   * time (it goes on; the snapshot's operations show it).
   */
  async function runOperation<Request>(
    request: FastifyRequest<{ Params: { workflowId: string } }>,
    reply: FastifyReply,
    what: string,
    update: UpdateDefinition<OperationOutcome, [Request]>,
    body: Request,
  ): Promise<FastifyReply> {
    const workflowId = checkWorkflowId(request.params.workflowId);
    const updateId = updateIdOf(request);
    const { run } = await runningBotCall(workflowId);
    // botCall's handlers report a failed operation in the OperationOutcome and never fail the update
    // (src/workflows/bot-call/bot-call.ts, runOperation): a failed update was refused by its validator, or
    // the workflow was cancelled while it ran.
    const refusedOrEnded = (error: unknown): never => {
      if (error instanceof WorkflowUpdateFailedError) {
        if (error.cause instanceof CancelledFailure) {
          throw new HttpError(
            409,
            'bot_call_finished',
            `the bot call ${workflowId} was cancelled before the ${what} had an outcome`,
          );
        }
        throw new HttpError(
          400,
          'operation_refused',
          `the bot call ${workflowId} refused the ${what}: ${updateFailureMessage(error)}`,
        );
      }
      // It ended between the description and the update, or before the update had an outcome.
      if (isWorkflowNotFound(error)) {
        throw new HttpError(
          409,
          'bot_call_finished',
          `the bot call ${workflowId} ended before the ${what} had an outcome; GET /api/bot-calls/${workflowId} shows how it ended`,
        );
      }
      throw error;
    };
    // Accepted or refused; a refusal's outcome comes with the answer, without another round trip.
    const started = await temporalCalls
      .call(
        `the ${what} for ${workflowId}`,
        () => run.startUpdate(update, { args: [body], waitForStage: 'ACCEPTED', updateId }),
        OPERATION_ACCEPT_TIMEOUT_MS,
      )
      .catch(refusedOrEnded);
    try {
      const outcome = await temporalCalls.call(
        `the outcome of the ${what} for ${workflowId}`,
        () => started.result(),
        OPERATION_RESULT_TIMEOUT_MS,
      );
      request.log.info({ workflowId, updateId, what, status: outcome.status }, 'bot call operation finished');
      return reply.code(200).send(outcome);
    } catch (error) {
      if (!(error instanceof TemporalUnavailableError)) return refusedOrEnded(error);
      // Accepted and durable: it goes on without this client. A retry with a new id would invite again.
      const pending: OperationPending = {
        workflowId,
        updateId,
        status: 'ACCEPTED',
        message: `the ${what} was accepted but has no outcome yet; do not send it again (or resend it with Idempotency-Key: ${updateId}); GET /api/bot-calls/${workflowId} lists the call's operations`,
      };
      return reply.code(202).send(pending);
    }
  }

  app.post('/api/bot-calls', { schema: apiRouteSchemas.startBotCall }, async (request, reply) => {
    const key = idempotencyKeyOf(request);
    const started = parseBotCallStart(requireJsonBody(request));
    const workflowId = botCallIdOf(started.id, key);
    const input: BotCallInput = {
      request: started.request,
      callbackUri: callbackUriFor(deps, workflowId),
      botAppId: deps.botAppId,
      ...(deps.tenantId ? { tenantId: deps.tenantId } : {}),
      ...(started.timeouts ? { timeouts: started.timeouts } : {}),
    };
    // The workflow adds HandoffCallIds once Graph has given the call an id.
    const typedSearchAttributes: SearchAttributePair[] = [
      { key: HandoffFlow, value: 'bot-call' },
      { key: HandoffTransferState, value: 'creating' },
    ];
    // The id names the call as a key does: a retry with the same id and body answers the same run.
    const idempotencyKey = key ?? started.id;
    const run = await startOnce({
      temporalCalls,
      workflowId,
      what: 'bot call',
      ...(idempotencyKey !== undefined
        ? { idempotency: { key: idempotencyKey, requestHash: requestHashOf(started) } }
        : {}),
      start: async (memo) => {
        const handle = await temporalCalls.call(`the bot call ${workflowId}`, () =>
          temporal.workflow.start<BotCallWorkflow>(BOT_CALL_WORKFLOW_TYPE, {
            workflowId,
            taskQueue: deps.taskQueue,
            args: [input],
            memo,
            typedSearchAttributes,
            staticSummary: describeCallRequest(started.request),
            // A call that failed may be tried again under the same id with a new Idempotency-Key (the same
            // key answers the failed run: startOnce); a running or ended one may not.
            workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          }),
        );
        return handle.firstExecutionRunId;
      },
      conflict: () =>
        new HttpError(
          409,
          'bot_call_exists',
          `a bot call with id ${workflowId} is already running or has ended; GET /api/bot-calls/${workflowId} shows it, or choose another id`,
        ),
    });
    request.log.info(
      { workflowId, runId: run.runId, kind: started.request.kind, replayed: !run.created },
      run.created ? 'bot call started' : 'bot call start repeated: same run',
    );
    const uiUrl = temporalUiUrlFor(deps, workflowId);
    return reply
      .code(run.created ? 201 : 200)
      .header('location', `/api/bot-calls/${encodeURIComponent(workflowId)}`)
      .send({ workflowId, runId: run.runId, ...(uiUrl ? { uiUrl } : {}) });
  });

  app.get<{ Params: { workflowId: string } }>(
    '/api/bot-calls/:workflowId',
    { schema: apiRouteSchemas.getBotCall },
    async (request) => {
      const workflowId = checkWorkflowId(request.params.workflowId);
      const description = await describeBotCall(workflowId);
      const uiUrl = temporalUiUrlFor(deps, workflowId);
      return runStatusOf<BotCallSnapshot, BotCallResult>({
        client: temporal,
        temporalCalls,
        workflowId,
        description,
        ...(uiUrl ? { uiUrl } : {}),
        stateQuery: botCallStateQuery,
        failureType: BOT_CALL_FAILED,
        log: request.log,
      });
    },
  );

  app.post<{ Params: { workflowId: string } }>(
    '/api/bot-calls/:workflowId/invitations',
    { schema: apiRouteSchemas.invite },
    async (request, reply) =>
      runOperation(
        request,
        reply,
        'invite',
        inviteParticipantsUpdate,
        parseInviteRequest(requireJsonBody(request)),
      ),
  );

  app.post<{ Params: { workflowId: string } }>(
    '/api/bot-calls/:workflowId/transfers',
    { schema: apiRouteSchemas.transferIntoCall },
    async (request, reply) =>
      runOperation(
        request,
        reply,
        'transfer into the call',
        transferIntoCallUpdate,
        parseTransferIntoCallRequest(requireJsonBody(request)),
      ),
  );

  app.post<{ Params: { workflowId: string } }>(
    '/api/bot-calls/:workflowId/moves',
    { schema: apiRouteSchemas.moveParticipant },
    async (request, reply) =>
      runOperation(
        request,
        reply,
        'participant move',
        moveParticipantUpdate,
        parseMoveParticipantRequest(requireJsonBody(request)),
      ),
  );

  app.post<{ Params: { workflowId: string } }>(
    '/api/bot-calls/:workflowId/blind-transfers',
    { schema: apiRouteSchemas.transferParticipant },
    async (request, reply) =>
      runOperation(
        request,
        reply,
        'transfer',
        transferParticipantUpdate,
        parseTransferParticipantRequest(requireJsonBody(request)),
      ),
  );

  app.post<{ Params: { workflowId: string } }>(
    '/api/bot-calls/:workflowId/hang-up',
    { schema: apiRouteSchemas.hangUp },
    async (request, reply) => {
      const workflowId = checkWorkflowId(request.params.workflowId);
      const { run, runId } = await runningBotCall(workflowId);
      await temporalCalls
        .call(`the hang-up of ${workflowId}`, () => run.signal(hangUpSignal))
        .catch((error: unknown) => {
          throw isWorkflowNotFound(error) ? finished(workflowId, 'closed') : error;
        });
      request.log.info({ workflowId, runId }, 'bot call hang-up requested');
      return reply.code(202).send({ workflowId, runId, status: 'HANG_UP_REQUESTED' });
    },
  );
}
