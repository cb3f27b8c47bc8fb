import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import {
  answerCallRequestSchema,
  createCallRequestSchema,
  inviteParticipantsRequestSchema,
  redirectCallRequestSchema,
  rejectCallRequestSchema,
  transferCallRequestSchema,
} from '../graph/index.js';
import type { Calling } from './calling.js';
import { originOf } from './connection.js';
import { GraphError, graphErrorBody, graphErrorCode } from './errors.js';
import type { FaultAnswer, FaultInjector } from './faults.js';
import { callPath, operationPath, renderCall, renderOperation, renderParticipants } from './resources.js';
import type { TokenService } from './tokens.js';

export interface GraphRoutesDeps {
  calling: Calling;
  tokens: TokenService;
  faults: FaultInjector;
  /** '', '/v1.0' or '/beta': echoed in Location headers so clients follow the version they use. */
  versionPrefix: string;
}

type CallParams = { Params: { callId: string } };

/**
 * The calling API under one collection path (`/communications/calls` or the deprecated
 * `/app/calls`, seed 000). Every request is checked for injected faults and throttling first,
 * then for a bearer token from the simulator's token endpoint.
 */
export async function graphCallRoutes(app: FastifyInstance, deps: GraphRoutesDeps): Promise<void> {
  const { calling, tokens, faults, versionPrefix } = deps;
  const absolute = (request: FastifyRequest, path: string) => `${originOf(request)}${versionPrefix}${path}`;

  // Delayed answers (a scripted fault with delayMs) wait after the handler acted, so the
  // notifications it queued can reach the bot before the response does. Aborted on close.
  const responseDelays = new WeakMap<FastifyRequest, number>();
  const closing = new AbortController();
  const wait = (ms: number) => sleep(ms, undefined, { signal: closing.signal }).catch(() => undefined);
  app.addHook('onClose', async () => closing.abort());

  app.addHook('preHandler', async (request, reply) => {
    const fault = faults.next({
      method: request.method,
      path: request.url.split('?')[0] ?? '',
      graph: true,
      body: request.body,
    });
    if (fault?.status !== undefined) {
      if (fault.delayMs) await wait(fault.delayMs);
      return sendGraphFault(reply, { ...fault, status: fault.status });
    }
    if (fault?.delayMs) responseDelays.set(request, fault.delayMs);
    await tokens.verifyBearer(request.headers.authorization);
  });

  app.addHook('onSend', async (request, _reply, payload) => {
    const delayMs = responseDelays.get(request);
    if (delayMs) await wait(delayMs);
    return payload;
  });

  app.post('/', async (request, reply) => {
    const body = parseBody(createCallRequestSchema, request.body);
    const { call, body: created } = calling.createCall(body);
    const location = absolute(request, callPath(call.id));
    return reply
      .code(201)
      .header('location', location)
      .send({
        '@odata.context': `${absolute(request, '')}/$metadata#communications/calls/$entity`,
        ...created,
      });
  });

  app.get<CallParams>('/:callId', async (request) => renderCall(calling.liveCall(request.params.callId)));

  app.delete<CallParams>('/:callId', async (request, reply) => {
    calling.hangUp(request.params.callId);
    return reply.code(204).send();
  });

  // Graph v1.0 answers 202 Accepted with no body; the old walkthroughs (seeds 000, 001) show
  // 200 with a commsOperation. The simulator answers the current way.
  app.post<CallParams>('/:callId/answer', async (request, reply) => {
    const body = parseBody(answerCallRequestSchema, request.body);
    calling.answer(request.params.callId, body);
    return reply.code(202).send();
  });

  // "call: redirect" and "call: reject" (v1.0): 202 Accepted without a body.
  app.post<CallParams>('/:callId/redirect', async (request, reply) => {
    const body = parseBody(redirectCallRequestSchema, request.body);
    calling.redirect(request.params.callId, body);
    return reply.code(202).send();
  });

  app.post<CallParams>('/:callId/reject', async (request, reply) => {
    const body = parseBody(rejectCallRequestSchema, request.body);
    calling.reject(request.params.callId, body);
    return reply.code(202).send();
  });

  // "call: transfer" (v1.0): 202 Accepted without a body.
  app.post<CallParams>('/:callId/transfer', async (request, reply) => {
    const body = parseBody(transferCallRequestSchema, request.body);
    calling.transfer(request.params.callId, body);
    return reply.code(202).send();
  });

  app.post<CallParams>('/:callId/participants/invite', async (request, reply) => {
    const body = parseBody(inviteParticipantsRequestSchema, request.body);
    const { operation, body: running } = calling.invite(request.params.callId, body);
    return reply
      .code(200)
      .header('location', absolute(request, operationPath(operation.callId, operation.id)))
      .send(running);
  });

  app.get<CallParams>('/:callId/participants', async (request) => {
    const call = calling.liveCall(request.params.callId);
    return { value: renderParticipants(call.id, call.participants) };
  });

  app.get<{ Params: { callId: string; operationId: string } }>(
    '/:callId/operations/:operationId',
    async (request) => {
      const operation = calling.operation(request.params.callId, request.params.operationId);
      return { ...renderOperation(operation), '@odata.id': operationPath(operation.callId, operation.id) };
    },
  );

  app.post<CallParams>('/:callId/keepAlive', async (request, reply) => {
    calling.keepAlive(request.params.callId);
    return reply.code(200).send();
  });
}

/** Validates a JSON body with a src/graph schema; a 400 names each offending field. */
function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GraphError(400, 'The request body must be a JSON object.');
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path
        .map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`))
        .join('');
      return `${path.replace(/^\./, '') || '(body)'}: ${issue.message}`;
    });
    throw new GraphError(400, `Invalid request body: ${problems.join('; ')}`);
  }
  return result.data;
}

const faultMessages: Record<number, string> = {
  429: 'Too many requests (simulated throttling). Retry after the Retry-After interval.',
  503: 'The service is temporarily unavailable (simulated). Retry after the Retry-After interval.',
};

function sendGraphFault(reply: FastifyReply, fault: FaultAnswer & { status: number }) {
  if (fault.retryAfterSeconds !== undefined) reply.header('retry-after', String(fault.retryAfterSeconds));
  const message = faultMessages[fault.status] ?? `Simulated ${fault.status} fault.`;
  return reply.code(fault.status).send(graphErrorBody(fault.code ?? graphErrorCode(fault.status), message));
}
