import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sharedResource } from './shared.js';

/** One notification POST a bot received. */
export interface ReceivedNotification {
  method: string;
  /** Path and query, e.g. /api/calls. */
  path: string;
  authorization: string | undefined;
  /** The bearer token from the Authorization header, if any. */
  token: string | undefined;
  /** The parsed JSON body (the raw text when it was not JSON). */
  body: unknown;
  /** The status the receiver answered with. */
  status: number;
  at: Date;
}

export type Responder = (notification: Omit<ReceivedNotification, 'status'>) => number;

export interface BotReceiver {
  /** http://127.0.0.1:<port> */
  url: string;
  /** A callback URL on this receiver; `/api/calls` (the bot's registered URL) by default. */
  callbackUrl(path?: string): string;
  received: ReceivedNotification[];
  /** Sets the status answered from now on: a number, or a function of each notification. */
  respondWith(status: number | Responder): void;
  /** Resolves once at least `count` notifications arrived; rejects after timeoutMs naming what arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedNotification[]>;
  stop(): Promise<void>;
}

/** A tiny HTTP server that plays a bot receiving Graph notifications: it records them and answers 202. */
export async function startBotReceiver(options: { status?: number | Responder } = {}): Promise<BotReceiver> {
  const received: ReceivedNotification[] = [];
  let responder: Responder = toResponder(options.status ?? 202);
  let waiters: Array<() => void> = [];

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const authorization = request.headers.authorization;
      const notification = {
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        authorization,
        token: /^Bearer (.+)$/i.exec(authorization ?? '')?.[1],
        body: parseJson(text),
        at: new Date(),
      };
      const status = responder(notification);
      received.push({ ...notification, status });
      response.writeHead(status).end();
      const ready = waiters;
      waiters = [];
      for (const wake of ready) wake();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    callbackUrl: (path = '/api/calls') => `${url}${path}`,
    received,
    respondWith(status) {
      responder = toResponder(status);
    },
    waitFor(count, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `bot receiver got ${received.length} of ${count} notifications within ${timeoutMs} ms: ${JSON.stringify(
                received.map((notification) => notification.body),
              )}`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          if (received.length >= count) {
            clearTimeout(timer);
            resolve(received);
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    stop() {
      return new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

function toResponder(status: number | Responder): Responder {
  return typeof status === 'number' ? () => status : status;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A bot receiver every test of a file shares (started in beforeAll, stopped in afterAll). */
export function sharedBotReceiver(options: { status?: number | Responder } = {}): BotReceiver {
  return sharedResource(
    'bot receiver',
    () => startBotReceiver(options),
    (receiver) => receiver.stop(),
  );
}
