/**
 * The load balancer in front of the cluster soak's webhook processes: Graph posts every callback to
 * one public address (the webhooks' PUBLIC_BASE_URL) and this proxy hands each POST to the next
 * webhook in turn, as a round-robin balancer would.
 *
 * - A webhook that refuses the connection (killed, not yet restarted) is skipped: nothing reached it,
 *   so the next one gets the request. With none left the answer is 503 + Retry-After, and Graph
 *   retries.
 * - A webhook that dies with the request in flight gets a 502: it may or may not have signalled,
 *   and Graph retries (the workflows ignore what they already applied).
 *
 * It also counts, per workflow, the 202s whose delivery report says the workflow was signalled:
 * the soak's lost-notification audit compares them with the signals in each workflow's history.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the proxy answered it (to Graph). */
export interface ProxiedRequest {
  at: Date;
  path: string;
  /** The webhook that answered, or undefined when none could be reached. */
  backend?: string;
  status: number;
  /** Webhooks tried before one took the connection (or all refused). */
  refusedBy: number;
}

export interface RoundRobinProxy {
  /** http://127.0.0.1:<port>: the webhooks' PUBLIC_BASE_URL. */
  url: string;
  /** The webhooks, in turn; replaced when one is restarted on a new port. */
  setBackends(urls: readonly string[]): void;
  backends(): readonly string[];
  /** Per workflow id: how many 202 answers reported a `signalled` (or `started`) delivery to it. */
  acknowledgedSignals(): ReadonlyMap<string, number>;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

const RETRY_AFTER_SECONDS = '1';
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

interface BackendAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

class ConnectRefused extends Error {}

function forward(backend: string, incoming: IncomingMessage, body: Buffer): Promise<BackendAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(incoming.url ?? '/', backend);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value !== undefined && !hopByHop.has(name)) headers[name] = value;
    }
    headers['content-length'] = String(body.length);
    let connected = false;
    const outgoing = httpRequest(
      target,
      { method: incoming.method, headers, agent: false, timeout: 30_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 502,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('socket', (socket) => socket.on('connect', () => (connected = true)));
    outgoing.on('timeout', () => outgoing.destroy(new Error('the webhook did not answer within 30 s')));
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      // Refused before a byte was sent: safe to hand to the next webhook.
      reject(!connected && error.code === 'ECONNREFUSED' ? new ConnectRefused(error.message) : error);
    });
    outgoing.end(body);
  });
}

/** The workflow ids a webhook's 202 says it signalled: `{ deliveries: [{ workflowId, outcome }] }`. */
export function signalledWorkflows(body: Buffer | string): string[] {
  try {
    const parsed = JSON.parse(body.toString()) as {
      deliveries?: Array<{ workflowId?: unknown; outcome?: unknown }>;
    };
    return (parsed.deliveries ?? []).flatMap((delivery) =>
      typeof delivery.workflowId === 'string' &&
      (delivery.outcome === 'signalled' || delivery.outcome === 'started')
        ? [delivery.workflowId]
        : [],
    );
  } catch {
    return [];
  }
}

export async function startRoundRobinProxy(
  initialBackends: readonly string[] = [],
): Promise<RoundRobinProxy> {
  let backends = [...initialBackends];
  let next = 0;
  const acknowledged = new Map<string, number>();
  const requests: ProxiedRequest[] = [];

  async function handle(incoming: IncomingMessage, reply: ServerResponse): Promise<void> {
    const at = new Date();
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = (incoming.url ?? '/').split('?')[0] ?? '/';
    const order = backends.length;
    let refusedBy = 0;
    for (let tried = 0; tried < order; tried++) {
      const backend = backends[next++ % backends.length] as string;
      try {
        const answer = await forward(backend, incoming, body);
        if (answer.status === 202) {
          for (const workflowId of signalledWorkflows(answer.body))
            acknowledged.set(workflowId, (acknowledged.get(workflowId) ?? 0) + 1);
        }
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !hopByHop.has(name)) reply.setHeader(name, value);
        }
        reply.writeHead(answer.status).end(answer.body);
        requests.push({ at, path, backend, status: answer.status, refusedBy });
        return;
      } catch (error) {
        if (error instanceof ConnectRefused) {
          refusedBy += 1;
          continue;
        }
        // The webhook took the request and died (or hung): it may have signalled. Graph retries.
        reply.writeHead(502, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: 'bad_gateway',
            message: `the webhook ${backend} failed: ${String(error)}`,
          }),
        );
        requests.push({ at, path, backend, status: 502, refusedBy });
        return;
      }
    }
    reply
      .writeHead(503, { 'content-type': 'application/json', 'retry-after': RETRY_AFTER_SECONDS })
      .end(JSON.stringify({ error: 'no_webhook', message: 'no webhook took the connection; retry' }));
    requests.push({ at, path, status: 503, refusedBy });
  }

  const server: Server = createServer((incoming, reply) => {
    handle(incoming, reply).catch((error: unknown) => {
      if (!reply.headersSent) reply.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setBackends(urls) {
      backends = [...urls];
    },
    backends: () => backends,
    acknowledgedSignals: () => acknowledged,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
