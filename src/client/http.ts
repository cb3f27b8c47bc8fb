/**
 * `HandoffClient`: Handoff's HTTP API over fetch, for services that start and follow transfers
 * and bot calls without Temporal. Every non-2xx answer becomes a HandoffApiError carrying the
 * API's `{error:{code,message}}`.
 */
import type {
  InviteRequest,
  MoveParticipantRequest,
  TransferIntoCallRequest,
  TransferParticipantRequest,
} from '../workflows/bot-call/types.js';
import type {
  BotCallStatus,
  CancelRequested,
  ErrorBody,
  HangUpRequested,
  IncomingCallStatus,
  NativeTransferRequest,
  NativeTransferStatus,
  OperationAnswer,
  RedirectIncomingCallRequest,
  RejectIncomingCallRequest,
  RoutingRulesStatus,
  StartBotCallRequest,
  StartedWorkflow,
  StartTransferRequest,
  TransferStatus,
} from './types.js';

export interface HandoffClientOptions {
  /** Where Handoff's HTTP API listens, e.g. `http://127.0.0.1:3979`. */
  baseUrl: string;
  /** HANDOFF_API_TOKEN of the service: sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Another fetch (a proxy agent, a test double); the global fetch by default. */
  fetch?: typeof fetch;
  /** Per request, in ms; default 90 s (an operation's outcome can take up to 60 s). */
  timeoutMs?: number;
}

/** Per operation: a retry with the same key is run once (the API's Idempotency-Key). */
export interface OperationOptions {
  idempotencyKey?: string;
}

/** The API answered an error: `status`, and its `code` and `message` (and `issues` for a 400). */
export class HandoffApiError extends Error {
  override readonly name = 'HandoffApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Array<{ path: string; message: string }> = [],
    /** From `Retry-After` on a 503: Temporal could not be reached, retry after this long. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Nothing usable came back: the network failed, the request timed out, or the body is not the API's. */
export class HandoffUnreachableError extends Error {
  override readonly name = 'HandoffUnreachableError';
}

export class HandoffClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: HandoffClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`baseUrl must be an absolute http(s) URL, got "${options.baseUrl}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`baseUrl must be an http(s) URL, got "${options.baseUrl}"`);
    }
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 90_000;
  }

  /** `POST /api/transfers`. 409 `transfer_exists` when the call is already being transferred. */
  startTransfer(request: StartTransferRequest): Promise<StartedWorkflow> {
    return this.#send('POST', '/api/transfers', request);
  }

  /** `GET /api/transfers/:workflowId`. 404 `transfer_not_found`. */
  getTransfer(workflowId: string): Promise<TransferStatus> {
    return this.#send('GET', `/api/transfers/${encodeURIComponent(workflowId)}`);
  }

  /** `POST /api/transfers/:workflowId/cancel`: hangs up the group call it created. 409 once it ended. */
  cancelTransfer(workflowId: string): Promise<CancelRequested> {
    return this.#send('POST', `/api/transfers/${encodeURIComponent(workflowId)}/cancel`);
  }

  /** `POST /api/incoming-calls/:callId/redirect`. 409 `incoming_call_handled` once redirected or rejected. */
  redirectIncomingCall(callId: string, request: RedirectIncomingCallRequest): Promise<StartedWorkflow> {
    return this.#send('POST', `/api/incoming-calls/${encodeURIComponent(callId)}/redirect`, request);
  }

  /** `POST /api/incoming-calls/:callId/reject`. 409 `incoming_call_handled` once redirected or rejected. */
  rejectIncomingCall(callId: string, request: RejectIncomingCallRequest = {}): Promise<StartedWorkflow> {
    return this.#send('POST', `/api/incoming-calls/${encodeURIComponent(callId)}/reject`, request);
  }

  /** `GET /api/incoming-calls/:callId`: the outcome. 404 `incoming_call_not_found`. */
  getIncomingCall(callId: string): Promise<IncomingCallStatus> {
    return this.#send('GET', `/api/incoming-calls/${encodeURIComponent(callId)}`);
  }

  /** `GET /api/routing-rules`: the rules in force and the last reload error. 404 without a rule file. */
  getRoutingRules(): Promise<RoutingRulesStatus> {
    return this.#send('GET', '/api/routing-rules');
  }

  /** `POST /api/routing-rules/reload`. 422 `invalid_routing_rules` (the rules in force stay). */
  reloadRoutingRules(): Promise<RoutingRulesStatus> {
    return this.#send('POST', '/api/routing-rules/reload');
  }

  /**
   * `POST /api/incoming-calls/:callId/transfer`: answer the call and transfer it (blind or
   * consultative). 409 `native_transfer_exists` once a transfer of this call started.
   */
  transferIncomingCall(
    callId: string,
    request: NativeTransferRequest,
    options: OperationOptions = {},
  ): Promise<StartedWorkflow> {
    return this.#send(
      'POST',
      `/api/incoming-calls/${encodeURIComponent(callId)}/transfer`,
      request,
      options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey },
    );
  }

  /** `GET /api/incoming-calls/:callId/transfer`: phase, snapshot and result. 404 `native_transfer_not_found`. */
  getNativeTransfer(callId: string): Promise<NativeTransferStatus> {
    return this.#send('GET', `/api/incoming-calls/${encodeURIComponent(callId)}/transfer`);
  }

  /** `POST …/transfer/complete`: a consultative `onRequest` transfer, once the target answered. 409 when refused. */
  completeNativeTransfer(callId: string): Promise<NativeTransferStatus['snapshot']> {
    return this.#send('POST', `/api/incoming-calls/${encodeURIComponent(callId)}/transfer/complete`, {});
  }

  /** `POST …/transfer/abandon`: hang up the consultation call and return to the caller. 409 when refused. */
  abandonNativeTransfer(callId: string, reason?: string): Promise<NativeTransferStatus['snapshot']> {
    return this.#send(
      'POST',
      `/api/incoming-calls/${encodeURIComponent(callId)}/transfer/abandon`,
      reason !== undefined ? { reason } : {},
    );
  }

  /** `POST /api/bot-calls`. 409 `bot_call_exists` for an id already used. */
  startBotCall(request: StartBotCallRequest): Promise<StartedWorkflow> {
    return this.#send('POST', '/api/bot-calls', request);
  }

  /** `GET /api/bot-calls/:workflowId`. 404 `bot_call_not_found`. */
  getBotCall(workflowId: string): Promise<BotCallStatus> {
    return this.#send('GET', `/api/bot-calls/${encodeURIComponent(workflowId)}`);
  }

  /** `POST /api/bot-calls/:workflowId/invitations`: invite 1 to 5 parties. */
  inviteParticipants(
    workflowId: string,
    request: InviteRequest,
    options: OperationOptions = {},
  ): Promise<OperationAnswer> {
    return this.#operation(workflowId, 'invitations', request, options);
  }

  /** `POST /api/bot-calls/:workflowId/transfers`: a P2P call replaced into this call. */
  transferIntoCall(
    workflowId: string,
    request: TransferIntoCallRequest,
    options: OperationOptions = {},
  ): Promise<OperationAnswer> {
    return this.#operation(workflowId, 'transfers', request, options);
  }

  /** `POST /api/bot-calls/:workflowId/moves`: a participant moved here from another meeting. */
  moveParticipant(
    workflowId: string,
    request: MoveParticipantRequest,
    options: OperationOptions = {},
  ): Promise<OperationAnswer> {
    return this.#operation(workflowId, 'moves', request, options);
  }

  /** `POST /api/bot-calls/:workflowId/blind-transfers`: blind transfer of one participant out of this group call. */
  transferParticipant(
    workflowId: string,
    request: TransferParticipantRequest,
    options: OperationOptions = {},
  ): Promise<OperationAnswer> {
    return this.#operation(workflowId, 'blind-transfers', request, options);
  }

  /** `POST /api/bot-calls/:workflowId/hang-up`. 409 once the call ended. */
  hangUp(workflowId: string): Promise<HangUpRequested> {
    return this.#send('POST', `/api/bot-calls/${encodeURIComponent(workflowId)}/hang-up`);
  }

  #operation(
    workflowId: string,
    route: 'invitations' | 'transfers' | 'moves' | 'blind-transfers',
    body: unknown,
    { idempotencyKey }: OperationOptions,
  ): Promise<OperationAnswer> {
    return this.#send(
      'POST',
      `/api/bot-calls/${encodeURIComponent(workflowId)}/${route}`,
      body,
      idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
    );
  }

  async #send<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const url = `${this.#baseUrl}${path}`;
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new HandoffUnreachableError(`${method} ${url} failed: ${cause}`, { cause: error });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new HandoffUnreachableError(
        `${method} ${url} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      );
    }
    if (response.ok) return parsed as T;
    const error = (parsed as Partial<ErrorBody> | undefined)?.error;
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new HandoffApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? `${method} ${url} answered ${response.status}`,
      error?.issues ?? [],
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }
}
