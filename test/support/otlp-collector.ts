// A tiny OTLP/HTTP collector for tests: records what a process POSTs to /v1/traces (JSON, as
// @opentelemetry/exporter-trace-otlp-http sends it) and reads the spans back out.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

export interface OtlpExport {
  path: string;
  contentType: string;
  body: string;
}

export interface OtlpCollector {
  /** e.g. http://127.0.0.1:43210: OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  exports: OtlpExport[];
  /** Every span of every export to /v1/traces. */
  spans(): OtlpSpan[];
  /** The `service.name` of every export to /v1/traces. */
  serviceNames(): string[];
  close(): Promise<void>;
}

interface OtlpBody {
  resourceSpans: Array<{
    resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}

export async function startOtlpCollector(): Promise<OtlpCollector> {
  const exports: OtlpExport[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      exports.push({
        path: request.url ?? '',
        contentType: String(request.headers['content-type']),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const bodies = () =>
    exports.filter((item) => item.path === '/v1/traces').map((item) => JSON.parse(item.body) as OtlpBody);
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    spans: () =>
      bodies().flatMap((body) =>
        body.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)),
      ),
    serviceNames: () =>
      bodies().flatMap((body) =>
        body.resourceSpans.flatMap(
          (resource) =>
            resource.resource?.attributes
              ?.filter((attribute) => attribute.key === 'service.name')
              .map((attribute) => attribute.value.stringValue ?? '') ?? [],
        ),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
