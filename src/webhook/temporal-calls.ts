/**
 * Temporal calls made while an HTTP client waits. Graph wants an answer within 5 s (design.md,
 * "Known traps"), so every call gets a deadline and a hard stop: the client's gRPC retry loop
 * sleeps between attempts and can outlive a deadline by seconds when the server is down.
 */
import { type Client, isGrpcServiceError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { HttpError } from './errors.js';

/** Time Temporal gets per call while Graph waits; Graph gives the whole request 5 s. */
export const TEMPORAL_CALL_TIMEOUT_MS = 3_000;
/** What a 503 tells the caller to wait before retrying. */
export const RETRY_AFTER_SECONDS = 5;

// gRPC status codes (@grpc/grpc-js is not a direct dependency).
const grpcStatus = {
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

const transientCodes: ReadonlySet<number> = new Set([
  grpcStatus.CANCELLED,
  grpcStatus.UNKNOWN,
  grpcStatus.DEADLINE_EXCEEDED,
  grpcStatus.RESOURCE_EXHAUSTED,
  grpcStatus.ABORTED,
  grpcStatus.INTERNAL,
  grpcStatus.UNAVAILABLE,
]);

/** Temporal did not take the request in time or could not be reached: the caller should retry. */
export class TemporalUnavailableError extends HttpError {
  constructor(what: string, cause: unknown) {
    super(
      503,
      'temporal_unavailable',
      `Temporal did not accept ${what}: ${describe(cause)}; retry after ${RETRY_AFTER_SECONDS} s`,
      { headers: { 'retry-after': String(RETRY_AFTER_SECONDS) }, cause },
    );
  }
}

class TemporalCallTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** The gRPC status code of an error or of any error in its cause chain. */
function grpcCodeOf(error: unknown): number | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (isGrpcServiceError(current)) return current.code;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

export function isWorkflowNotFound(error: unknown): boolean {
  return error instanceof WorkflowNotFoundError || grpcCodeOf(error) === grpcStatus.NOT_FOUND;
}

export function isWorkflowAlreadyStarted(error: unknown): error is WorkflowExecutionAlreadyStartedError {
  return error instanceof WorkflowExecutionAlreadyStartedError;
}

/** Whether a failed Temporal call is worth retrying later (server down, slow or overloaded). */
export function isTemporalUnavailable(error: unknown): boolean {
  if (error instanceof TemporalCallTimeout || error instanceof TemporalUnavailableError) return true;
  const code = grpcCodeOf(error);
  if (code !== undefined) return transientCodes.has(code);
  // The client's own connection errors ("Failed to connect before the deadline", …).
  return error instanceof Error && /connect|deadline|unavailable/i.test(error.message);
}

const grpcCodeNames: ReadonlyMap<number, string> = new Map(
  Object.entries(grpcStatus).map(([name, code]) => [code, name]),
);

/** A short reason for the client; the full error, with its cause chain, goes to the log. */
function describe(error: unknown): string {
  if (error instanceof TemporalCallTimeout) return error.message;
  const code = grpcCodeOf(error);
  if (code !== undefined) return `gRPC ${grpcCodeNames.get(code) ?? `status ${code}`}`;
  return 'the connection failed';
}

export interface TemporalCaller {
  readonly client: Client;
  /**
   * Runs `call` with a gRPC deadline and a hard timeout. Transient failures become
   * TemporalUnavailableError (503 + Retry-After); everything else is rethrown as it came, for the
   * route to decide (not found, already started, …).
   */
  call<T>(what: string, call: () => Promise<T>, timeoutMs?: number): Promise<T>;
  /**
   * Resolves once every call has settled, including those the hard timeout gave up on. The
   * client's retry loop keeps a timer after the deadline (up to its 5 s backoff) and throws
   * "Channel has been shut down" if the connection is closed meanwhile: the server waits for
   * this on close, so its owner can close the connection right after.
   */
  idle(): Promise<void>;
}

export function createTemporalCaller(client: Client): TemporalCaller {
  const inFlight = new Set<Promise<unknown>>();
  return {
    client,
    async call<T>(
      what: string,
      call: () => Promise<T>,
      timeoutMs: number = TEMPORAL_CALL_TIMEOUT_MS,
    ): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      const attempt = client.withDeadline(Date.now() + timeoutMs, call);
      const tracked = attempt.catch(() => undefined).finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TemporalCallTimeout(timeoutMs)), timeoutMs + 100);
      });
      try {
        return await Promise.race([attempt, timeout]);
      } catch (error) {
        if (isTemporalUnavailable(error) && !isWorkflowNotFound(error))
          throw new TemporalUnavailableError(what, error);
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
