/**
 * The sinks Handoff's workflow interceptors (src/workflows/interceptors.ts) call, registered on every
 * worker and replay worker: the bundle always contains the interceptors, so the sinks are always
 * there, doing nothing when metrics or tracing are off.
 */
import { makeWorkflowExporter, type OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks } from '@temporalio/worker';
import type { Tracing } from '../tracing/tracing.js';
import type { HandoffMetricsSinks } from '../workflows/workflow-metrics.js';
import type { WorkerMetrics } from './metrics.js';

type HandoffWorkflowSinks = HandoffMetricsSinks & OpenTelemetrySinks;

const ignore = { fn: () => {} };

/** The last few thousand run ids seen: enough to catch a close reported again by the same worker. */
class RecentRuns {
  private readonly runs = new Set<string>();
  constructor(private readonly capacity = 10_000) {}
  /** False when `runId` was already added. */
  add(runId: string): boolean {
    if (this.runs.has(runId)) return false;
    this.runs.add(runId);
    // A Set iterates in insertion order: the first is the oldest.
    if (this.runs.size > this.capacity) this.runs.delete(this.runs.values().next().value!);
    return true;
  }
}

export function handoffWorkflowSinks(options: {
  metrics?: WorkerMetrics | undefined;
  tracing?: Tracing | undefined;
}): InjectedSinks<HandoffWorkflowSinks> {
  const { metrics, tracing } = options;
  const closedRuns = new RecentRuns();
  return {
    handoffMetrics: metrics
      ? {
          started: {
            fn: (_info, workflowType) => metrics.workflowsStarted.inc({ workflow_type: workflowType }),
          },
          closed: {
            fn: (info, workflowType, status, outcome) => {
              // A completion Temporal refused (a signal arrived with it) runs the close again in the
              // next task, not as a replay: count each run once.
              if (!closedRuns.add(info.runId)) return;
              metrics.workflowsClosed.inc({ workflow_type: workflowType, status, outcome });
            },
          },
        }
      : { started: ignore, closed: ignore },
    exporter: tracing ? makeWorkflowExporter(tracing.spanProcessor, tracing.resource) : { export: ignore },
  };
}
