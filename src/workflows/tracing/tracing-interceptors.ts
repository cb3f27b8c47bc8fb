/**
 * The workflow side of tracing (issue 13.4): a span for the run, each signal, update and query
 * handled, and each activity, child workflow, external signal and continue-as-new started, with the
 * trace context passed on in the outbound call's headers. Span names and headers are those of
 * @temporalio/interceptors-opentelemetry, whose client and activity interceptors Handoff keeps
 * outside the sandbox; this replaces only its workflow interceptors (why: workflow-spans.ts).
 *
 * Only headers change, never commands, and every `next` is called synchronously, as before.
 *
 * Which random stream a span id is drawn from matters for determinism. A span that is made again
 * when the history is replayed (run, signal, update, outbound call) draws from the workflow's own
 * stream, as the OpenTelemetry interceptors did, so a workflow recorded under them replays to the
 * same `uuid4()`s. A span that is not made again on replay (a query, an update's validator) draws
 * from a stream of its own: drawing from the workflow's stream there made a `uuid4()` drawn after it
 * (botCall's clientContext, drawn right after its validator ran) differ between the first run and
 * a replay.
 */

import type { Headers } from '@temporalio/common';
import {
  type ActivityInput,
  ContinueAsNew,
  type ContinueAsNewInput,
  defaultPayloadConverter,
  type GetLogAttributesInput,
  getRandomStream,
  type LocalActivityInput,
  type Next,
  type QueryInput,
  type SignalInput,
  type SignalWorkflowInput,
  type StartChildWorkflowExecutionInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptors,
  type WorkflowOutboundCallsInterceptor,
  workflowInfo,
  workflowRandom,
} from '@temporalio/workflow';
import { activeTraceContext } from './active-span.js';
import { carrierFor, TRACE_HEADER, traceContextFrom } from './trace-context.js';
import { inSpan, inSpanSync, type SpanOptions } from './workflow-spans.js';

const replayedSpans = (): number => workflowRandom.random();
const unreplayedSpans = (): number => getRandomStream('handoff-tracing-unreplayed').random();
const isContinueAsNew = (error: unknown): boolean => error instanceof ContinueAsNew;

/** The trace context a message's headers carry; undefined when they carry no trace header at all. */
function fromHeaders(headers: Headers): SpanOptions['fromHeaders'] {
  const payload = headers[TRACE_HEADER];
  if (payload === undefined) return undefined;
  return { remoteParent: traceContextFrom(defaultPayloadConverter.fromPayload(payload)) };
}

function withTraceContext(headers: Headers): Headers {
  return { ...headers, [TRACE_HEADER]: defaultPayloadConverter.toPayload(carrierFor(activeTraceContext())) };
}

// Each method keeps the shape of its counterpart in @temporalio/interceptors-opentelemetry (an async
// method returning `await inSpan(…)`, an async `fn` for outbound calls): see inSpan for why.
class TracingInboundInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    const name = `RunWorkflow:${workflowInfo().workflowType}`;
    const options = { name, fromHeaders: fromHeaders(input.headers), random: replayedSpans };
    return await inSpan({ ...options, isExpected: isContinueAsNew }, () => next(input));
  }

  async handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>) {
    const options = { name: `HandleSignal:${input.signalName}`, random: replayedSpans };
    return await inSpan({ ...options, fromHeaders: fromHeaders(input.headers) }, () => next(input));
  }

  async handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>) {
    const options = { name: `HandleUpdate:${input.name}`, random: replayedSpans };
    const attributes = { temporalUpdateId: input.updateId };
    return await inSpan({ ...options, fromHeaders: fromHeaders(input.headers), attributes }, () =>
      next(input),
    );
  }

  validateUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>): void {
    const options = { name: `ValidateUpdate:${input.name}`, random: unreplayedSpans };
    const attributes = { temporalUpdateId: input.updateId };
    inSpanSync({ ...options, fromHeaders: fromHeaders(input.headers), attributes }, () => next(input));
  }

  async handleQuery(input: QueryInput, next: Next<WorkflowInboundCallsInterceptor, 'handleQuery'>) {
    const options = { name: `HandleQuery:${input.queryName}`, random: unreplayedSpans };
    return await inSpan({ ...options, fromHeaders: fromHeaders(input.headers) }, () => next(input));
  }
}

/** The span of an outbound call: a child of the active span, passed on in the call's headers. */
const outbound = (name: string) => ({ name, random: replayedSpans });

class TracingOutboundInterceptor implements WorkflowOutboundCallsInterceptor {
  async scheduleActivity(
    input: ActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>,
  ) {
    return await inSpan(outbound(`StartActivity:${input.activityType}`), async () =>
      next({ ...input, headers: withTraceContext(input.headers) }),
    );
  }

  async scheduleLocalActivity(
    input: LocalActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
  ) {
    return await inSpan(outbound(`StartActivity:${input.activityType}`), async () =>
      next({ ...input, headers: withTraceContext(input.headers) }),
    );
  }

  async startChildWorkflowExecution(
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ) {
    return await inSpan(outbound(`StartChildWorkflow:${input.workflowType}`), async () =>
      next({ ...input, headers: withTraceContext(input.headers) }),
    );
  }

  async signalWorkflow(
    input: SignalWorkflowInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>,
  ) {
    return await inSpan(outbound(`SignalWorkflow:${input.signalName}`), async () =>
      next({ ...input, headers: withTraceContext(input.headers) }),
    );
  }

  async continueAsNew(
    input: ContinueAsNewInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>,
  ) {
    const options = {
      ...outbound(`ContinueAsNew:${input.options.workflowType}`),
      isExpected: isContinueAsNew,
    };
    return await inSpan(options, async () => next({ ...input, headers: withTraceContext(input.headers) }));
  }

  getLogAttributes(
    input: GetLogAttributesInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'getLogAttributes'>,
  ): Record<string, unknown> {
    const active = activeTraceContext();
    if (!active) return next(input);
    return next({
      trace_id: active.traceId,
      span_id: active.spanId,
      trace_flags: `0${active.traceFlags.toString(16)}`,
      ...input,
    });
  }
}

/** Fresh per workflow; the interceptors hold no state of their own. */
export function tracingInterceptors(): WorkflowInterceptors {
  return {
    inbound: [new TracingInboundInterceptor()],
    outbound: [new TracingOutboundInterceptor()],
  };
}
