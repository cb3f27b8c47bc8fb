/**
 * Every error the webhook answers has the shape `{ error: { code, message } }`: a stable code a
 * program can switch on and a message a person can act on. Stack traces never leave the process.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ErrorBody {
  error: { code: string; message: string; issues?: Array<{ path: string; message: string }> };
}

/** An error whose status, code and message are meant for the client. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly extra: {
      headers?: Record<string, string>;
      issues?: Array<{ path: string; message: string }>;
      cause?: unknown;
    } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
  }
}

/** Fastify's own errors (content type, body, JSON, validation), keyed by their error codes. */
function fromFastifyError(error: FastifyError, bodyLimitBytes: number): HttpError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(
        413,
        'body_too_large',
        `the request body exceeds the limit of ${bodyLimitBytes} bytes`,
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError(
        400,
        'malformed_json',
        'the request body is not valid JSON (keys such as __proto__ are refused)',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'empty_body', 'the request body is empty; send a JSON document');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(400, 'invalid_content_length', 'Content-Length does not match the body');
  }
  if (error.validation) {
    const where = error.validationContext ? `${error.validationContext} ` : '';
    return new HttpError(400, 'invalid_request', `${where}${error.message}`.trim());
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    // Fastify's client-error messages name the problem and carry nothing internal.
    return new HttpError(status, 'bad_request', error.message);
  }
  return undefined;
}

export function sendError(reply: FastifyReply, error: HttpError): FastifyReply {
  const body: ErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.extra.issues ? { issues: error.extra.issues } : {}),
    },
  };
  return reply
    .code(error.statusCode)
    .headers(error.extra.headers ?? {})
    .type('application/json; charset=utf-8')
    .send(body);
}

/** Installs the one error handler and the not-found handler on the root instance. */
export function installErrorHandling(app: FastifyInstance, bodyLimitBytes: number): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const known =
      error instanceof HttpError
        ? error
        : isFastifyError(error)
          ? fromFastifyError(error, bodyLimitBytes)
          : undefined;
    if (known) {
      // A client's mistake is one line; our own trouble gets the error chain, in the log only.
      if (known.statusCode >= 500)
        request.log.error({ code: known.code, err: known.cause ?? known }, known.message);
      else request.log.info({ code: known.code }, known.message);
      return sendError(reply, known);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(
      reply,
      new HttpError(
        500,
        'internal_error',
        `internal error; the server log has the details (request ${request.id})`,
      ),
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new HttpError(
        404,
        'not_found',
        `no route for ${request.method} ${(request.url.split('?')[0] ?? '').slice(0, 200)}`,
      ),
    ),
  );
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && ('code' in error || 'validation' in error || 'statusCode' in error);
}

/**
 * Errors fastify answers before any route or hook runs (its `frameworkErrors` option): a path that is
 * not valid percent-encoding (`%zz`) and a path parameter over the router's length limit. Without this
 * they get fastify's own body (`{error: 'Bad Request', code: 'FST_ERR_BAD_URL', …}`, 414 for a long
 * parameter) instead of the `{ error: { code, message } }` every other answer has.
 */
export function answerFrameworkError(maxParamLength: number) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
    switch (error.code) {
      case 'FST_ERR_BAD_URL':
        sendError(
          reply,
          new HttpError(
            400,
            'invalid_url',
            'the request path is not valid percent-encoding: "%" must start an escape such as %2F of UTF-8 bytes',
          ),
        );
        return;
      case 'FST_ERR_MAX_PARAM_LENGTH':
        // The only path parameters are workflow ids (/api/calls/:workflowId, /api/transfers/:workflowId).
        sendError(
          reply,
          new HttpError(
            400,
            'invalid_workflow_id',
            `the workflow id in the path is longer than ${maxParamLength} characters; workflow ids are 1-200 characters`,
          ),
        );
        return;
      default:
        sendError(
          reply,
          (error.statusCode ?? 500) < 500
            ? new HttpError(error.statusCode ?? 400, 'bad_request', error.message)
            : new HttpError(500, 'internal_error', 'internal error; the server log has the details'),
        );
    }
  };
}

/**
 * A request Node's HTTP parser refuses (Content-Length together with Transfer-Encoding, two
 * Content-Lengths, one that is not a number, headers over 16 KiB, a request not sent in time) never
 * reaches fastify: this answers it on the socket, in the same error shape, and closes the connection,
 * as fastify's default handler does with its own body.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message]: [number, string, string] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'the request was not received in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'the request headers are larger than 16 KiB']
        : [
            400,
            'malformed_http',
            `the HTTP request is malformed (${error.code ?? 'parse error'}); check Content-Length and Transfer-Encoding`,
          ];
  if (socket.writable) {
    const body = JSON.stringify({ error: { code, message } } satisfies ErrorBody);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
