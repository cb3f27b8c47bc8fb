/**
 * Handoff's workflow interceptors, bundled with the workflow code (src/worker/bundle.ts) and loaded
 * by every worker and replay alike, so a workflow runs the same code whether tracing is on or not:
 *
 * - Tracing (issue 13.4): a span for the workflow run, each message handled and each activity
 *   scheduled, linked to the client's span through the headers; made in the sandbox and handed to
 *   the worker's `exporter` sink (a no-op when tracing is off). Only headers change, never commands
 *   (tracing/tracing-interceptors.ts).
 * - Counting (issue 13.3): each run started and closed, by workflow type and outcome, reported to
 *   the worker's `handoffMetrics` sink. Sinks are not called while replaying, so a run evicted from
 *   the cache and replayed is not counted twice.
 */
import {
  ContinueAsNew,
  isCancellation,
  type Next,
  proxySinks,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  workflowInfo,
} from '@temporalio/workflow';
import { tracingInterceptors } from './tracing/tracing-interceptors.js';
import { type HandoffMetricsSinks, type WorkflowCloseStatus, workflowOutcomeOf } from './workflow-metrics.js';

const { handoffMetrics } = proxySinks<HandoffMetricsSinks>();

class CountingInterceptor implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    const { workflowType } = workflowInfo();
    handoffMetrics.started(workflowType);
    const closed = (status: WorkflowCloseStatus, outcome: string) =>
      handoffMetrics.closed(workflowType, status, outcome);
    try {
      const result = await next(input);
      closed('completed', workflowOutcomeOf(result));
      return result;
    } catch (error) {
      if (error instanceof ContinueAsNew) closed('continuedAsNew', 'continuedAsNew');
      else if (isCancellation(error)) closed('cancelled', 'cancelled');
      else closed('failed', 'failed');
      throw error;
    }
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const tracing = tracingInterceptors();
  return {
    ...tracing,
    // Counting outermost: a run is counted whatever the tracing interceptor does.
    inbound: [new CountingInterceptor(), ...(tracing.inbound ?? [])],
  };
};
