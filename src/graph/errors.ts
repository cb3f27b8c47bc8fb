/**
 * How a failed Graph request or token request is described to the rest of Handoff.
 *
 * The client never retries (design.md, "Failure and retries": retries belong to Temporal
 * activities); it only classifies. Every field is plain JSON so that an activity can put
 * `error.toJSON()` into an ApplicationFailure's details and a workflow or the Temporal UI can
 * read it back.
 */

/** `http`: Graph answered, with a status; `timeout`: no answer in time; `network`: no connection. */
export type GraphErrorKind = 'http' | 'timeout' | 'network';

export interface GraphRequestErrorDetails {
  method: string;
  /** The request path below the client's base URL, e.g. `/communications/calls/{id}/participants/invite`. */
  path: string;
  /** HTTP status; undefined when no response arrived (kind `timeout` or `network`). */
  status?: number;
  /**
   * Graph's `error.code` from a `{ error: { code, message } }` body, e.g. `ServiceUnavailable`;
   * without such a body, the status text without spaces (a proxy's 502 says `BadGateway`).
   */
  code?: string;
  /** Graph's `error.message`. */
  graphMessage?: string;
  /** Graph's `request-id` for this request, to quote to Microsoft support. */
  requestId?: string;
  /** The `client-request-id` this client sent (Graph echoes it), to find the request in our logs. */
  clientRequestId?: string;
  /** From the Retry-After header (seconds or an HTTP date), in whole seconds. */
  retryAfterSeconds?: number;
  retryable: boolean;
  kind: GraphErrorKind;
}

/** 429, 408 and 5xx may succeed later; any other 4xx will fail the same way again. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || (status >= 500 && status <= 599);
}

/**
 * Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). Returns whole
 * seconds (rounded up, never negative), or undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed));
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

function describeFailure(details: GraphRequestErrorDetails, cause: string | undefined): string {
  const parts: string[] = [];
  if (details.kind === 'http') {
    parts.push([details.status, details.code].filter((part) => part !== undefined).join(' '));
    if (details.graphMessage) parts.push(`- ${details.graphMessage}`);
  } else if (details.kind === 'timeout') {
    parts.push(`timeout: ${cause ?? 'no response in time'}`);
  } else {
    parts.push(`network error${cause ? `: ${cause}` : ''}`);
  }
  if (details.kind === 'http' && cause) parts.push(cause);
  const notes: string[] = [];
  if (details.retryAfterSeconds !== undefined) notes.push(`retry after ${details.retryAfterSeconds} s`);
  if (details.requestId) notes.push(`request-id ${details.requestId}`);
  const suffix = notes.length > 0 ? ` (${notes.join(', ')})` : '';
  return `${details.method} ${details.path} failed: ${parts.join(' ')}${suffix}`;
}

/** A Graph request that failed: Graph said no, did not answer in time, or could not be reached. */
export class GraphRequestError extends Error implements GraphRequestErrorDetails {
  override readonly name = 'GraphRequestError';
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly code?: string;
  readonly graphMessage?: string;
  readonly requestId?: string;
  readonly clientRequestId?: string;
  readonly retryAfterSeconds?: number;
  readonly retryable: boolean;
  readonly kind: GraphErrorKind;

  /**
   * @param details what failed; `retryable` defaults from kind and status.
   * @param explanation extra words for the message: the network cause, or what was wrong
   *   with a response body.
   */
  constructor(
    details: Omit<GraphRequestErrorDetails, 'retryable'> & { retryable?: boolean },
    explanation?: string,
    options?: { cause?: unknown },
  ) {
    const retryable =
      details.retryable ??
      (details.kind !== 'http' || (details.status !== undefined && isRetryableStatus(details.status)));
    const complete: GraphRequestErrorDetails = { ...details, retryable };
    super(describeFailure(complete, explanation), options);
    this.method = complete.method;
    this.path = complete.path;
    this.retryable = retryable;
    this.kind = complete.kind;
    // Absent members stay absent, so toJSON() carries no `undefined` noise.
    if (complete.status !== undefined) this.status = complete.status;
    if (complete.code !== undefined) this.code = complete.code;
    if (complete.graphMessage !== undefined) this.graphMessage = complete.graphMessage;
    if (complete.requestId !== undefined) this.requestId = complete.requestId;
    if (complete.clientRequestId !== undefined) this.clientRequestId = complete.clientRequestId;
    if (complete.retryAfterSeconds !== undefined) this.retryAfterSeconds = complete.retryAfterSeconds;
  }

  toJSON(): GraphRequestErrorDetails & { name: string; message: string } {
    const { method, path, status, code, graphMessage, requestId, clientRequestId, retryAfterSeconds } = this;
    return {
      name: this.name,
      message: this.message,
      method,
      path,
      ...(status !== undefined ? { status } : {}),
      ...(code !== undefined ? { code } : {}),
      ...(graphMessage !== undefined ? { graphMessage } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
      ...(clientRequestId !== undefined ? { clientRequestId } : {}),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      retryable: this.retryable,
      kind: this.kind,
    };
  }
}

/**
 * `configuration`: the settings are wrong (bad secret or certificate, unknown tenant, untrusted
 * authority); the others as for GraphRequestError, for the token endpoint.
 */
export type GraphAuthErrorKind = GraphErrorKind | 'configuration';

export interface GraphAuthErrorDetails {
  tenantId: string;
  clientId: string;
  authority: string;
  /** HTTP status of the token endpoint's answer, when there was one. */
  status?: number;
  /** MSAL's / the token endpoint's error code, e.g. `invalid_client`. */
  code?: string;
  retryAfterSeconds?: number;
  retryable: boolean;
  kind: GraphAuthErrorKind;
}

/** The app could not get an access token for Graph. */
export class GraphAuthError extends Error implements GraphAuthErrorDetails {
  override readonly name = 'GraphAuthError';
  readonly tenantId: string;
  readonly clientId: string;
  readonly authority: string;
  readonly status?: number;
  readonly code?: string;
  readonly retryAfterSeconds?: number;
  readonly retryable: boolean;
  readonly kind: GraphAuthErrorKind;

  constructor(message: string, details: GraphAuthErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.tenantId = details.tenantId;
    this.clientId = details.clientId;
    this.authority = details.authority;
    this.retryable = details.retryable;
    this.kind = details.kind;
    if (details.status !== undefined) this.status = details.status;
    if (details.code !== undefined) this.code = details.code;
    if (details.retryAfterSeconds !== undefined) this.retryAfterSeconds = details.retryAfterSeconds;
  }

  toJSON(): GraphAuthErrorDetails & { name: string; message: string } {
    const { tenantId, clientId, authority, status, code, retryAfterSeconds } = this;
    return {
      name: this.name,
      message: this.message,
      tenantId,
      clientId,
      authority,
      ...(status !== undefined ? { status } : {}),
      ...(code !== undefined ? { code } : {}),
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      retryable: this.retryable,
      kind: this.kind,
    };
  }
}

/** A 404 from Graph: the call or operation is gone (design.md: "404 on hang-up means done"). */
export function isNotFound(error: unknown): boolean {
  return error instanceof GraphRequestError && error.status === 404;
}

/** Whether trying the same thing again later may succeed. Errors of other types: false. */
export function isRetryable(error: unknown): boolean {
  return (error instanceof GraphRequestError || error instanceof GraphAuthError) && error.retryable;
}
