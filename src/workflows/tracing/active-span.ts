/**
 * The span whose context is active in workflow code: what outbound calls and log lines are
 * attributed to. One AsyncLocalStorage for every workflow of the worker, as the SDK's own
 * cancellation scopes have: this module is preloaded (src/worker/worker.ts, workflowPreloadModules),
 * so it is evaluated once, before any workflow, instead of once per workflow.
 *
 * Why one: in Node 20 every enabled AsyncLocalStorage adds a property to every promise created
 * afterwards in the thread. One storage per workflow (as the OpenTelemetry workflow interceptors
 * had) makes each promise of each workflow task cost as many properties as there are workflows in
 * the cache: a thousand parked transfers made every workflow task slow and every parked transfer
 * big (docs/performance.md, row 5). A store is only reachable from the promises of the workflow that
 * set it, so one storage leaks no context between workflows.
 *
 * Nothing else here: a preloaded module is frozen and shared, so it must hold no workflow's state.
 */
import type { AsyncLocalStorage } from '@temporalio/workflow';
import type { TraceContext } from './trace-context.js';

// The sandbox's global, which @temporalio/workflow re-exports; read from globalThis so that this
// module loads nothing else into the preloaded, shared part of the bundle.
const { AsyncLocalStorage: SandboxAsyncLocalStorage } = globalThis as unknown as {
  AsyncLocalStorage: typeof AsyncLocalStorage;
};
const activeSpan = new SandboxAsyncLocalStorage<TraceContext>();

export function activeTraceContext(): TraceContext | undefined {
  return activeSpan.getStore();
}

/** Runs `fn` with `context` active, across the promises `fn` creates. */
export function withActiveSpan<T>(context: TraceContext, fn: () => T): T {
  return activeSpan.run(context, fn);
}
