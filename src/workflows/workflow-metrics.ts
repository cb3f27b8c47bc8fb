/**
 * The sink by which workflow code reports runs started and closed (src/workflows/interceptors.ts)
 * to the worker's Prometheus counters (src/worker/workflow-metrics-sink.ts). Shared by both sides:
 * no I/O here.
 */
import type { Sink, Sinks } from '@temporalio/workflow';

/** How a run closed, as Temporal records it. */
export type WorkflowCloseStatus = 'completed' | 'failed' | 'cancelled' | 'continuedAsNew';

export interface HandoffMetricsSink extends Sink {
  started(workflowType: string): void;
  /** `outcome`: the result's own `outcome` (a transfer's `completed`, `failed`, …), else `status`. */
  closed(workflowType: string, status: WorkflowCloseStatus, outcome: string): void;
}

export interface HandoffMetricsSinks extends Sinks {
  handoffMetrics: HandoffMetricsSink;
}

/** Only short camelCase words become a label, never an id or free text from a result. */
const OUTCOME_LABEL = /^[a-zA-Z]{1,32}$/;

/** The `outcome` a workflow's result names (TransferResult, BotCallResult, …), or `completed`. */
export function workflowOutcomeOf(result: unknown): string {
  if (typeof result === 'object' && result !== null && 'outcome' in result) {
    const { outcome } = result as { outcome: unknown };
    if (typeof outcome === 'string' && OUTCOME_LABEL.test(outcome)) return outcome;
  }
  return 'completed';
}
