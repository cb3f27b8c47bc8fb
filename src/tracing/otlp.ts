/** The OTLP/HTTP (protobuf-free JSON) trace exporter for an endpoint from OTEL_EXPORTER_OTLP_*. */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * `tracesEndpoint` is the full URL spans are POSTed to (e.g. http://127.0.0.1:4318/v1/traces);
 * headers (OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS) the exporter reads itself.
 */
export function otlpTraceExporter(tracesEndpoint: string): SpanExporter {
  return new OTLPTraceExporter({ url: tracesEndpoint });
}
