import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { TokenProvider } from './auth.js';
import { type AnswerCallRequest, type Call, type CreateCallRequest, callSchema } from './call.js';
import { GraphRequestError, parseRetryAfter } from './errors.js';
import type { RedirectCallRequest, RejectCallRequest, TransferCallRequest } from './incoming-call.js';
import { type CommsOperation, commsOperationSchema, type InviteParticipantsRequest } from './operation.js';
import { callIdFrom, parseResource } from './resource.js';

export interface GraphClientOptions {
  /** Graph's root with the API version, e.g. `https://graph.microsoft.com/v1.0` (see clouds.ts). */
  baseUrl: string;
  tokenProvider: TokenProvider;
  /** How long one Graph request may take, from sending to the end of the body. Default 10 s. */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
  userAgent?: string;
}

/**
 * The Graph calling requests Handoff makes. Plain functions: activities are built from them.
 * No function retries; a failure is a GraphRequestError (or the token provider's
 * GraphAuthError) that says whether retrying can help.
 */
export interface GraphClient {
  /** POST /communications/calls/{id}/answer. Graph answers 202 without a body; some answer 200 with an operation. */
  answerCall(callId: string, request: AnswerCallRequest): Promise<CommsOperation | undefined>;
  /** POST /communications/calls: the new call, usually in state `establishing` (seed 004). */
  createCall(request: CreateCallRequest): Promise<Call>;
  /**
   * POST /communications/calls/{id}/participants/invite. Answered 200 with the operation
   * (seeds 001, 003) or 202 with only a Location naming it (seed 002). The outcome arrives
   * later as a notification.
   */
  inviteParticipants(
    callId: string,
    request: InviteParticipantsRequest,
  ): Promise<{ operationId?: string; operation?: CommsOperation }>;
  /** GET /communications/calls/{id}. A 404 (see isNotFound) means the call is gone. */
  getCall(callId: string): Promise<Call>;
  /** GET /communications/calls/{id}/operations/{operationId}. */
  getOperation(callId: string, operationId: string): Promise<CommsOperation>;
  /** DELETE /communications/calls/{id}. */
  hangUp(callId: string): Promise<void>;
  /** POST /communications/calls/{id}/keepAlive: without one every 15–45 minutes Graph ends the call. */
  keepAlive(callId: string): Promise<void>;
  /** POST /communications/calls/{id}/redirect: 202 without a body; the outcome arrives as notifications. */
  redirectCall(callId: string, request: RedirectCallRequest): Promise<void>;
  /** POST /communications/calls/{id}/reject: 202 without a body; `terminated` follows as a notification. */
  rejectCall(callId: string, request: RejectCallRequest): Promise<void>;
  /** POST /communications/calls/{id}/transfer: 202 without a body; the outcome arrives as notifications. */
  transferCall(callId: string, request: TransferCallRequest): Promise<void>;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_USER_AGENT = 'handoff-graph-client';

interface GraphResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when the body was empty. */
  body: unknown;
}

/** Graph errors look like `{ "error": { "code", "message", "innerError": { "request-id" } } }`. */
function graphErrorOf(body: unknown): { code?: string; message?: string; requestId?: string } {
  if (!body || typeof body !== 'object') return {};
  const error = (body as { error?: unknown }).error;
  if (!error || typeof error !== 'object') return {};
  const { code, message, innerError } = error as { code?: unknown; message?: unknown; innerError?: unknown };
  const requestId =
    innerError && typeof innerError === 'object'
      ? (innerError as Record<string, unknown>)['request-id']
      : undefined;
  return {
    ...(typeof code === 'string' && code ? { code } : {}),
    ...(typeof message === 'string' && message ? { message } : {}),
    ...(typeof requestId === 'string' && requestId ? { requestId } : {}),
  };
}

function networkCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
  }
  return error.message;
}

function callPath(callId: string): string {
  const id = typeof callId === 'string' ? callIdFrom(callId) : '';
  if (id === '')
    throw new TypeError('callId is required (a Graph call id or a /communications/calls/{id} path)');
  return `/communications/calls/${encodeURIComponent(id)}`;
}

/** Operation ids also arrive as `/communications/calls/{id}/operations/{operationId}` (Location, @odata.id). */
function operationIdFrom(value: string): string {
  const ref = typeof value === 'string' ? parseResource(value) : undefined;
  const id = ref?.kind === 'operation' ? ref.operationId : typeof value === 'string' ? value.trim() : '';
  if (id === '') throw new TypeError('operationId is required (a Graph operation id)');
  return id;
}

export function createGraphClient(options: GraphClientOptions): GraphClient {
  if (typeof options.baseUrl !== 'string' || !URL.canParse(options.baseUrl)) {
    throw new Error(
      `baseUrl must be an absolute URL such as https://graph.microsoft.com/v1.0, got "${options.baseUrl}"`,
    );
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0) {
    throw new Error(
      `requestTimeoutMs must be a positive number of milliseconds, got ${options.requestTimeoutMs}`,
    );
  }
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const origin = new URL(baseUrl).origin;
  const fetchImpl = options.fetch ?? fetch;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const { tokenProvider } = options;

  async function send(method: string, path: string, body?: unknown): Promise<GraphResponse> {
    // Outside the request's timeout: the token provider bounds its own requests, and its
    // GraphAuthError passes through unchanged.
    const token = await tokenProvider.getToken();
    const clientRequestId = randomUUID();
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'client-request-id': clientRequestId,
      'user-agent': userAgent,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';

    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      // The body is read under the same signal: a server that stalls mid-body is a timeout too.
      text = await response.text();
    } catch (error) {
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        throw new GraphRequestError(
          { method, path, kind: 'timeout', clientRequestId },
          `no response within ${requestTimeoutMs} ms`,
          { cause: error },
        );
      }
      throw new GraphRequestError(
        { method, path, kind: 'network', clientRequestId },
        `${origin}: ${networkCause(error)}`,
        { cause: error },
      );
    }

    let parsed: unknown;
    let unparsable = false;
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        unparsable = true;
      }
    }
    const requestId = response.headers.get('request-id') ?? undefined;
    const echoedClientRequestId = response.headers.get('client-request-id') ?? clientRequestId;

    if (!response.ok) {
      const graphError = graphErrorOf(parsed);
      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
      throw new GraphRequestError({
        method,
        path,
        kind: 'http',
        status: response.status,
        code: graphError.code ?? (response.statusText.replace(/\s+/g, '') || undefined),
        ...(graphError.message ? { graphMessage: graphError.message } : {}),
        ...((requestId ?? graphError.requestId) ? { requestId: requestId ?? graphError.requestId } : {}),
        clientRequestId: echoedClientRequestId,
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      });
    }
    if (unparsable) {
      throw new GraphRequestError(
        {
          method,
          path,
          kind: 'http',
          status: response.status,
          ...(requestId ? { requestId } : {}),
          clientRequestId: echoedClientRequestId,
          retryable: false,
        },
        `but the response body is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
      );
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /** A 2xx whose body is not what Graph documents: not retryable, the same request would get the same. */
  function parseBody<S extends z.ZodType>(
    schema: S,
    what: string,
    method: string,
    path: string,
    response: GraphResponse,
  ): z.output<S> {
    const problem = (explanation: string) =>
      new GraphRequestError(
        {
          method,
          path,
          kind: 'http',
          status: response.status,
          ...(response.headers.get('request-id') ? { requestId: response.headers.get('request-id')! } : {}),
          retryable: false,
        },
        explanation,
      );
    if (response.body === undefined) throw problem(`but the response has no body (expected ${what})`);
    const result = schema.safeParse(response.body);
    if (!result.success) {
      const issues = result.error.issues
        .map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`)
        .join('; ');
      throw problem(`but the response body is not ${what}: ${issues}`);
    }
    return result.data;
  }

  return {
    async answerCall(callId, request) {
      const path = `${callPath(callId)}/answer`;
      const response = await send('POST', path, request);
      if (response.body === undefined) return undefined;
      return parseBody(commsOperationSchema, 'an operation', 'POST', path, response);
    },

    async createCall(request) {
      const path = '/communications/calls';
      const response = await send('POST', path, request);
      // Without an id the new call could be neither followed nor hung up.
      return parseBody(
        callSchema.refine((call) => Boolean(call.id), 'id is missing'),
        'a call',
        'POST',
        path,
        response,
      );
    },

    async inviteParticipants(callId, request) {
      const path = `${callPath(callId)}/participants/invite`;
      const response = await send('POST', path, request);
      const operation =
        response.body === undefined
          ? undefined
          : parseBody(commsOperationSchema, 'an operation', 'POST', path, response);
      const location = response.headers.get('location');
      const ref = location ? parseResource(location) : undefined;
      const operationId = operation?.id ?? (ref?.kind === 'operation' ? ref.operationId : undefined);
      return {
        ...(operationId ? { operationId } : {}),
        ...(operation ? { operation } : {}),
      };
    },

    async getCall(callId) {
      const path = callPath(callId);
      return parseBody(callSchema, 'a call', 'GET', path, await send('GET', path));
    },

    async getOperation(callId, operationId) {
      const path = `${callPath(callId)}/operations/${encodeURIComponent(operationIdFrom(operationId))}`;
      return parseBody(commsOperationSchema, 'an operation', 'GET', path, await send('GET', path));
    },

    async hangUp(callId) {
      await send('DELETE', callPath(callId));
    },

    async keepAlive(callId) {
      await send('POST', `${callPath(callId)}/keepAlive`);
    },

    async redirectCall(callId, request) {
      await send('POST', `${callPath(callId)}/redirect`, request);
    },

    async rejectCall(callId, request) {
      await send('POST', `${callPath(callId)}/reject`, request);
    },

    async transferCall(callId, request) {
      await send('POST', `${callPath(callId)}/transfer`, request);
    },
  };
}
