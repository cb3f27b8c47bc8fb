/**
 * Tracing as configured (OTEL_EXPORTER_OTLP_*), or undefined when no endpoint is set. The
 * OpenTelemetry SDK, its OTLP exporter and the Temporal interceptors are loaded only when tracing is
 * on: a process without tracing does not carry their ~20 MB (docs/performance.md, row 5).
 */
import type { TracingSettings } from '../config/env.js';
import type { Tracing } from './tracing.js';

export async function tracingFromSettings(
  settings: TracingSettings | undefined,
): Promise<Tracing | undefined> {
  if (settings === undefined) return undefined;
  const [{ startTracing }, { otlpTraceExporter }, { BatchSpanProcessor }] = await Promise.all([
    import('./tracing.js'),
    import('./otlp.js'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  return startTracing({
    serviceName: settings.serviceName,
    spanProcessor: new BatchSpanProcessor(otlpTraceExporter(settings.tracesEndpoint)),
  });
}
