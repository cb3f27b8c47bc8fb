import type { Random } from './random.js';
import { type FaultSettings, SimulatorConfigError } from './settings.js';

/**
 * A scripted fault: the next `times` requests matching method and path get `status`, or, with
 * `delayMs` alone, are served normally but answered late.
 */
export interface ScriptedFault {
  /** Any method when omitted; compared case-insensitively. */
  method?: string;
  /**
   * Tested against the request path (no query), e.g. /v1.0/communications/calls/abc/participants/invite.
   * Omitted: any Graph API request. The token endpoint is matched only by an explicit path.
   */
  path?: RegExp;
  /**
   * Only requests whose JSON body contains this text, e.g. the workflow id in a callbackUri or a
   * call id in replacesCallId: one run's requests among many concurrent ones.
   */
  bodyContains?: string;
  /** The error answered. Omitted (only with `delayMs`): the request is served normally. */
  status?: number;
  retryAfterSeconds?: number;
  /** Graph error code in the body; the status's usual code when omitted. */
  code?: string;
  /** How many matching requests get the fault; 1 when omitted. */
  times?: number;
  /**
   * Holds the answer this long (0..60000 ms). Without `status`, Graph acts on the request at once
   * (its notifications are queued as usual) and only the HTTP response comes late: a
   * notification then arrives before the request that caused it has returned (design.md).
   */
  delayMs?: number;
}

/** What a faulted request is answered with. */
export interface FaultAnswer {
  /** Undefined for a delay-only fault: serve the request, then answer after `delayMs`. */
  status?: number;
  delayMs?: number;
  code?: string;
  retryAfterSeconds?: number;
  source: 'scripted' | 'throttle';
}

export interface FaultRequest {
  method: string;
  path: string;
  /** Graph API request (true) or token endpoint request (false). */
  graph: boolean;
  /** The parsed request body, for `bodyContains`. */
  body?: unknown;
}

export interface FaultInjector {
  inject(fault: ScriptedFault): void;
  /** The fault this request gets, if any: scripted faults first, then random throttling (Graph API only). */
  next(request: FaultRequest): FaultAnswer | undefined;
  /** Scripted faults not yet used up. */
  readonly scripted: ReadonlyArray<Readonly<ScriptedFault> & { remaining: number }>;
  clear(): void;
}

export function validateScriptedFault(fault: ScriptedFault): void {
  const problems: string[] = [];
  if (fault.status === undefined && fault.delayMs === undefined) {
    problems.push(
      'status or delayMs is required: an HTTP error status 400..599, or a delay for a normal answer',
    );
  } else if (
    fault.status !== undefined &&
    (!Number.isInteger(fault.status) || fault.status < 400 || fault.status > 599)
  ) {
    problems.push(`status must be an HTTP error status 400..599, got ${String(fault.status)}`);
  }
  if (
    fault.delayMs !== undefined &&
    (!Number.isInteger(fault.delayMs) || fault.delayMs < 0 || fault.delayMs > 60_000)
  ) {
    problems.push(`delayMs must be a whole number of milliseconds 0..60000, got ${String(fault.delayMs)}`);
  }
  if (fault.path !== undefined && !(fault.path instanceof RegExp)) {
    problems.push('path must be a RegExp');
  }
  if (
    fault.bodyContains !== undefined &&
    (typeof fault.bodyContains !== 'string' || fault.bodyContains === '')
  ) {
    problems.push('bodyContains must be a non-empty text');
  }
  if (fault.times !== undefined && (!Number.isInteger(fault.times) || fault.times < 1)) {
    problems.push(`times must be a positive integer, got ${String(fault.times)}`);
  }
  if (
    fault.retryAfterSeconds !== undefined &&
    (!Number.isInteger(fault.retryAfterSeconds) || fault.retryAfterSeconds < 0)
  ) {
    problems.push(
      `retryAfterSeconds must be a whole number of seconds >= 0, got ${String(fault.retryAfterSeconds)}`,
    );
  }
  if (problems.length > 0) throw new SimulatorConfigError(`invalid fault: ${problems.join('; ')}`);
}

export function createFaultInjector(random: Random, settings: () => FaultSettings): FaultInjector {
  let scripted: Array<ScriptedFault & { remaining: number }> = [];

  function matches(fault: ScriptedFault, request: FaultRequest): boolean {
    if (fault.method && fault.method.toUpperCase() !== request.method.toUpperCase()) return false;
    if (fault.bodyContains !== undefined && !bodyText(request.body).includes(fault.bodyContains))
      return false;
    if (!fault.path) return request.graph;
    fault.path.lastIndex = 0;
    return fault.path.test(request.path);
  }

  return {
    inject(fault) {
      validateScriptedFault(fault);
      scripted.push({ ...fault, remaining: fault.times ?? 1 });
    },

    next(request) {
      const fault = scripted.find((candidate) => candidate.remaining > 0 && matches(candidate, request));
      if (fault) {
        fault.remaining -= 1;
        scripted = scripted.filter((candidate) => candidate.remaining > 0);
        // A scripted 429/503 without its own Retry-After gets the configured one, as throttling does.
        const throttling = fault.status === 429 || fault.status === 503;
        const { retryAfterSeconds } = settings();
        return {
          ...(fault.status !== undefined ? { status: fault.status } : {}),
          ...(fault.delayMs ? { delayMs: fault.delayMs } : {}),
          source: 'scripted',
          ...(fault.code ? { code: fault.code } : {}),
          ...(fault.retryAfterSeconds !== undefined
            ? { retryAfterSeconds: fault.retryAfterSeconds }
            : throttling
              ? { retryAfterSeconds }
              : {}),
        };
      }
      if (!request.graph) return undefined;
      const { throttleRate, throttleStatuses, retryAfterSeconds } = settings();
      if (!random.chance(throttleRate)) return undefined;
      const status =
        throttleStatuses.length === 1
          ? (throttleStatuses[0] as number)
          : (throttleStatuses[random.int(throttleStatuses.length)] as number);
      return { status, retryAfterSeconds, source: 'throttle' };
    },

    get scripted() {
      return scripted;
    },

    clear() {
      scripted = [];
    },
  };
}

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  return typeof body === 'string' ? body : JSON.stringify(body);
}
