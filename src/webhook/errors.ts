/**
 * Every error the webhook answers has the shape `{ error: { code, message } }`: a stable code a
 * program can switch on and a message a person can act on. Stack traces never leave the process.
 */
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
