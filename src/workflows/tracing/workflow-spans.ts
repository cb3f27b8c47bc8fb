/**
 * Spans made inside a workflow and handed to the worker through the `exporter` sink, in the shape
 * @temporalio/interceptors-opentelemetry's worker side (`makeWorkflowExporter`) turns into
 * OpenTelemetry spans. No OpenTelemetry module is loaded here: the workflow bundle is evaluated once
 * per workflow, and OpenTelemetry's ~120 modules were most of each parked workflow's memory
 * (docs/performance.md, row 5).
 *
 * What the spans keep from that package's workflow interceptors: names, parents (the active span,
 * or the remote one in a message's headers), the sampling rule (a root is sampled, a child follows
 * its parent), status and exception events, and ids drawn from the workflow's random stream exactly
 * as it drew them (trace-context.ts, randomHexId). Times are the workflow's clock: a span inside one
 * workflow task lasts 0 ms.
 */
import type { Attributes, HrTime, SpanStatus } from '@opentelemetry/api';
import type { TimedEvent } from '@opentelemetry/sdk-trace-base';
import { ApplicationFailureCategory } from '@temporalio/common';
import type { OpenTelemetrySinks, SerializableSpan } from '@temporalio/interceptors-opentelemetry';
import { ApplicationFailure, proxySinks } from '@temporalio/workflow';
import { activeTraceContext, withActiveSpan } from './active-span.js';
import { isSampled, randomHexId, SAMPLED, type TraceContext } from './trace-context.js';

// @opentelemetry/api's enums, by value: importing them would load the package into the bundle.
const SPAN_KIND_INTERNAL = 0;
const STATUS_UNSET = 0;
const STATUS_OK = 1;
const STATUS_ERROR = 2;
const INSTRUMENTATION = { name: '@temporalio/interceptor-workflow' };

const { exporter } = proxySinks<OpenTelemetrySinks>();

function hrTime(epochMillis: number): HrTime {
  const seconds = Math.trunc(epochMillis / 1000);
  return [seconds, Math.round((epochMillis - seconds * 1000) * 1e6)];
}

class WorkflowSpan {
  readonly context: TraceContext;
  private readonly startedAt = Date.now();
  private status: SpanStatus = { code: STATUS_UNSET };
  private readonly events: TimedEvent[] = [];
  readonly attributes: Attributes = {};

  constructor(
    readonly name: string,
    private readonly parent: TraceContext | undefined,
    random: () => number,
  ) {
    // OpenTelemetry's order: the span id first, then a trace id for a root.
    const spanId = randomHexId(8, random);
    const traceId = parent ? parent.traceId : randomHexId(16, random);
    this.context = {
      traceId,
      spanId,
      traceFlags: isSampled(parent) ? SAMPLED : 0,
      ...(parent?.traceState ? { traceState: parent.traceState } : {}),
      ...(parent?.baggage ? { baggage: parent.baggage } : {}),
    };
  }

  succeeded(): void {
    this.status = { code: STATUS_OK };
  }

  /** As the OpenTelemetry interceptors do: a benign ApplicationFailure leaves the status unset. */
  failed(error: unknown): void {
    const benign =
      error instanceof ApplicationFailure && error.category === ApplicationFailureCategory.BENIGN;
    const message = error instanceof Error ? error.message : String(error);
    this.status = benign ? { code: STATUS_UNSET, message } : { code: STATUS_ERROR, message };
    this.events.push({ name: 'exception', time: hrTime(Date.now()), attributes: exceptionAttributes(error) });
  }

  end(): void {
    if ((this.context.traceFlags & SAMPLED) === 0) return;
    const endedAt = Date.now();
    const { traceState, baggage: _baggage, isRemote: _isRemote, ...ids } = this.context;
    const span: SerializableSpan = {
      name: this.name,
      kind: SPAN_KIND_INTERNAL,
      spanContext: { ...ids, ...(traceState ? { traceState } : {}) },
      ...(this.parent ? { parentSpanId: this.parent.spanId } : {}),
      startTime: hrTime(this.startedAt),
      endTime: hrTime(endedAt),
      duration: hrTime(endedAt - this.startedAt),
      status: this.status,
      attributes: this.attributes,
      links: [],
      events: this.events,
      ended: true,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
      instrumentationLibrary: INSTRUMENTATION,
    };
    exporter.export([span]);
  }
}

function exceptionAttributes(error: unknown): Attributes {
  if (typeof error === 'string') return { 'exception.message': error };
  if (!(error instanceof Error)) return { 'exception.message': String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    'exception.type': code !== undefined && code !== null ? String(code) : error.name,
    'exception.message': error.message,
    ...(error.stack ? { 'exception.stacktrace': error.stack } : {}),
  };
}

export interface SpanOptions {
  name: string;
  /**
   * The message carried a trace header (even one naming no valid parent): the span's parent is
   * then the remote one it names, and, as OpenTelemetry's `instrument` did, the span runs inside
   * that context, one async layer deeper.
   */
  fromHeaders?: { remoteParent: TraceContext | undefined };
  /** Where the ids come from (see the module comment for which stream, and why). */
  random: () => number;
  /** Errors that end the span as OK (ContinueAsNew ends a run, it does not fail it). */
  isExpected?: (error: unknown) => boolean;
  attributes?: Attributes;
}

function startSpan(options: SpanOptions): WorkflowSpan {
  const parent = options.fromHeaders?.remoteParent ?? activeTraceContext();
  const span = new WorkflowSpan(options.name, parent, options.random);
  Object.assign(span.attributes, options.attributes);
  return span;
}

function settle(span: WorkflowSpan, error: unknown, isExpected: SpanOptions['isExpected']): void {
  if (isExpected?.(error)) span.succeeded();
  else span.failed(error);
}

async function wrapWithSpan<T>(
  span: WorkflowSpan,
  fn: () => T | Promise<T>,
  options: SpanOptions,
): Promise<T> {
  try {
    const result = await fn();
    span.succeeded();
    return result;
  } catch (error) {
    settle(span, error, options.isExpected);
    throw error;
  } finally {
    span.end();
  }
}

function startActiveSpan<T>(options: SpanOptions, fn: () => T | Promise<T>): Promise<T> {
  const span = startSpan(options);
  return withActiveSpan(span.context, async () => await wrapWithSpan(span, fn, options));
}

/**
 * Runs `fn` in a new active span. `fn` is called synchronously, so the commands it issues keep
 * their order in the workflow task. The awaits are those of @temporalio/interceptors-opentelemetry's
 * `instrument`, one for one: how many microtask turns a result takes to come back through the
 * interceptors decides which of two coroutines woken in one activation runs first, and so the order
 * of their commands, which must stay what histories recorded under that package hold.
 */
export async function inSpan<T>(options: SpanOptions, fn: () => T | Promise<T>): Promise<T> {
  if (options.fromHeaders) return await (async () => await startActiveSpan(options, fn))();
  return await startActiveSpan(options, fn);
}

/** `inSpan` for a synchronous `fn` (update validators), with no await at all, as there. */
export function inSpanSync<T>(options: SpanOptions, fn: () => T): T {
  const span = startSpan(options);
  return withActiveSpan(span.context, () => {
    try {
      const result = fn();
      span.succeeded();
      return result;
    } catch (error) {
      settle(span, error, options.isExpected);
      throw error;
    } finally {
      span.end();
    }
  });
}
