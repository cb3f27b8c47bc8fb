/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as Temporal headers carry it: the
 * client and activity interceptors of @temporalio/interceptors-opentelemetry put a text map
 * (`traceparent`, `tracestate`, `baggage`) into the `_tracer-data` header. No imports: workflow code
 * uses it, and it is unit-tested on its own.
 *
 * Written here rather than taken from @opentelemetry/core's W3CTraceContextPropagator, which would
 * put OpenTelemetry back into the workflow bundle (workflow-spans.ts says why that matters);
 * test/trace-context.test.ts holds it to that propagator and to OpenTelemetry's id generator.
 */

/** The header the OpenTelemetry interceptors read and write (TRACE_HEADER in that package). */
export const TRACE_HEADER = '_tracer-data';

/** Trace flags: only "sampled" is defined. */
export const SAMPLED = 0x01;

/** The part of an OpenTelemetry SpanContext a workflow span needs, with the state kept as text. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  /** `tracestate` as received: passed on, never read. */
  traceState?: string;
  /** `baggage` as received: passed on, never read. */
  baggage?: string;
  /** Extracted from headers rather than made in this workflow. */
  isRemote?: boolean;
}

/** The text map in the header's payload. */
export type TraceCarrier = Partial<Record<'traceparent' | 'tracestate' | 'baggage', string>>;

// As OpenTelemetry's W3CTraceContextPropagator: version ff is invalid, all-zero ids are invalid.
const TRACE_PARENT =
  /^\s?((?!ff)[\da-f]{2})-((?![0]{32})[\da-f]{32})-((?![0]{16})[\da-f]{16})-([\da-f]{2})(-.*)?\s?$/;

/** The remote parent a carrier names, or undefined when it names none or a malformed one. */
export function traceContextFrom(carrier: unknown): TraceContext | undefined {
  if (typeof carrier !== 'object' || carrier === null) return undefined;
  const { traceparent, tracestate, baggage } = carrier as Record<string, unknown>;
  if (typeof traceparent !== 'string') return undefined;
  const match = TRACE_PARENT.exec(traceparent);
  // Version 00 has exactly four fields; later versions may add more (the spec's versioning rule).
  if (!match || (match[1] === '00' && match[5])) return undefined;
  return {
    traceId: match[2] as string,
    spanId: match[3] as string,
    traceFlags: Number.parseInt(match[4] as string, 16),
    isRemote: true,
    ...(typeof tracestate === 'string' && tracestate !== '' ? { traceState: tracestate } : {}),
    ...(typeof baggage === 'string' && baggage !== '' ? { baggage } : {}),
  };
}

/** The carrier that hands `context` on; empty without one, as OpenTelemetry's inject leaves it. */
export function carrierFor(context: TraceContext | undefined): TraceCarrier {
  if (!context) return {};
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  return {
    traceparent: `00-${context.traceId}-${context.spanId}-${flags}`,
    ...(context.traceState ? { tracestate: context.traceState } : {}),
    ...(context.baggage ? { baggage: context.baggage } : {}),
  };
}

/** Whether spans under `parent` are recorded: a root always is, a child when its parent was sampled. */
export function isSampled(parent: TraceContext | undefined): boolean {
  return parent === undefined || (parent.traceFlags & SAMPLED) === SAMPLED;
}

/**
 * An id of `bytes` bytes as lowercase hex, one random draw per hex digit. This is the browser build
 * of OpenTelemetry's RandomIdGenerator, which the workflow bundle used to carry: drawing the same
 * number of values from the same stream keeps the random values a workflow's own code draws after
 * it (a `uuid4()` clientContext) what they were when its history was recorded.
 */
export function randomHexId(bytes: number, random: () => number): string {
  let id = '';
  for (let digit = 0; digit < bytes * 2; digit++) id += Math.floor(random() * 16).toString(16);
  return id;
}
