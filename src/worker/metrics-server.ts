/**
 * The worker's one Prometheus endpoint (HANDOFF_WORKER_METRICS_ADDRESS): `GET /metrics` answers
 * Handoff's own registry (src/worker/metrics.ts) followed by the Temporal SDK's runtime metrics (task
 * latencies, slots, sticky cache, …), which the SDK's exporter serves on a loopback port of its own.
 * One scrape target per worker; the two sets have no metric name in common.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface WorkerMetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  close(): Promise<void>;
}

/** `host:port` split; IPv6 hosts in brackets (`[::1]:9464`). */
export function splitAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!match) throw new Error(`not a host:port address: "${address}"`);
  return { host: (match[1] ?? match[2])!, port: Number(match[3]) };
}

export async function startWorkerMetricsServer(options: {
  address: string;
  registry: Registry;
  /** The SDK exporter's `/metrics`; its text is appended. */
  runtimeMetricsUrl: string;
}): Promise<WorkerMetricsServer> {
  const { host, port } = splitAddress(options.address);
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    void (async () => {
      const own = await options.registry.metrics();
      // The runtime's metrics are best effort: Handoff's own are answered even when the exporter is not.
      const runtime = await fetch(options.runtimeMetricsUrl, { signal: AbortSignal.timeout(2_000) })
        .then((answer) => (answer.ok ? answer.text() : ''))
        .catch(() => '');
      response.writeHead(200, { 'content-type': options.registry.contentType });
      response.end(`${own}\n${runtime}`);
    })().catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
