import { randomUUID } from 'node:crypto';

/** Graph's error codes for the statuses the simulator answers with. */
const codeForStatus: Record<number, string> = {
  400: 'BadRequest',
  401: 'InvalidAuthenticationToken',
  403: 'Forbidden',
  404: 'itemNotFound',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

export function graphErrorCode(status: number): string {
  return codeForStatus[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequest');
}

/** An error a Graph API route answers with: status, Graph error code and a message that says what to fix. */
export class GraphError extends Error {
  override readonly name = 'GraphError';
  constructor(
    readonly status: number,
    message: string,
    readonly code: string = graphErrorCode(status),
  ) {
    super(message);
  }
}

export interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { date: string; 'request-id': string; 'client-request-id': string };
  };
}

/** The body Graph sends with every error: `{ error: { code, message, innerError } }`. */
export function graphErrorBody(code: string, message: string, clientRequestId?: string): GraphErrorBody {
  const requestId = randomUUID();
  return {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        'request-id': requestId,
        'client-request-id': clientRequestId ?? requestId,
      },
    },
  };
}

/** Entra ID's token endpoint error body (OAuth 2.0, RFC 6749 §5.2, plus Entra's extras). */
export interface OAuthErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
}

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    description: string,
  ) {
    super(`AADSTS${aadsts}: ${description}`);
  }
}

export function oauthErrorBody(error: string, description: string, aadsts: number): OAuthErrorBody {
  return {
    error,
    error_description: description.startsWith('AADSTS') ? description : `AADSTS${aadsts}: ${description}`,
    error_codes: [aadsts],
    timestamp: new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z'),
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  };
}
