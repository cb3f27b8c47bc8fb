// Notification bodies, forged tokens and a key server for the webhook tests. Bodies follow seed 001
// ("Invite participants to a new multiparty call, replacing an existing peer-to-peer call").
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { HandoffConfig } from '../../src/config/env.js';
import { callbackKeyFor, callbackUriFor } from '../../src/webhook/callback-binding.js';

/** HANDOFF_CALLBACK_SECRET of the webhooks tests build by hand (at least 32 characters). */
export const TEST_CALLBACK_SECRET = 'test-callback-secret-0123456789abcdef';

/** The callbackUri a test stack's webhook gives Graph for `workflowId` (signed with its config's secret). */
export function stackCallbackUri(
  stack: { webhookUrl: string; config: HandoffConfig },
  workflowId: string,
): string {
  return callbackUriFor(
    { publicBaseUrl: stack.webhookUrl, callbackSecrets: stack.config.notifications.callbackSecrets },
    workflowId,
  );
}

/** `/api/calls/<workflowId>/<callbackKey>`: the path Graph posts a workflow's notifications to. */
export function callbackPathFor(workflowId: string, secret: string = TEST_CALLBACK_SECRET): string {
  return `/api/calls/${encodeURIComponent(workflowId)}/${callbackKeyFor(secret, workflowId)}`;
}

export const testCaller = { user: { id: '8a34a46b-3d17-4adc-8dce-dc4e7d572698', displayName: 'Test User' } };

/** The incoming-call notification of seed 001, step 1, for `callId`. */
export function incomingCallBody(callId: string): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.commsNotifications',
    value: [
      {
        '@odata.type': '#microsoft.graph.commsNotification',
        changeType: 'created',
        resourceUrl: `/communications/calls/${callId}`,
        resourceData: {
          '@odata.type': '#microsoft.graph.call',
          '@odata.id': `/communications/calls/${callId}`,
          state: 'incoming',
          direction: 'incoming',
          source: { '@odata.type': '#microsoft.graph.participantInfo', identity: testCaller },
          requestedModalities: ['audio'],
        },
      },
    ],
  };
}

/** A call state change (`establishing`, `established`, `terminated`, …) for `callId`. */
export function callStateBody(
  callId: string,
  state: string,
  changeType = 'updated',
): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.commsNotifications',
    value: [
      {
        '@odata.type': '#microsoft.graph.commsNotification',
        changeType,
        resourceUrl: `/communications/calls/${callId}`,
        resourceData: { '@odata.type': '#microsoft.graph.call', state },
      },
    ],
  };
}

export interface TestSigningKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
}

export async function createSigningKey(kid: string, alg = 'RS256'): Promise<TestSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { privateKey, publicJwk, kid };
}

export interface TokenClaims {
  issuer: string;
  audience: string;
  /** Seconds from now; negative for a token that has expired. Default 300. */
  expiresIn?: number;
  /** Seconds from now for `nbf`; default -10. */
  notBefore?: number;
  tenantId?: string;
  alg?: string;
  /** Overrides the header's kid (default: the key's). */
  kid?: string;
}

/** A notification JWT as Bot Framework makes one, signed with a key the test controls. */
export async function forgeToken(key: TestSigningKey, claims: TokenClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims.tenantId ? { tid: claims.tenantId } : {})
    .setProtectedHeader({ alg: claims.alg ?? 'RS256', kid: claims.kid ?? key.kid, typ: 'JWT' })
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setIssuedAt(now - 60)
    .setNotBefore(now + (claims.notBefore ?? -10))
    .setExpirationTime(now + (claims.expiresIn ?? 300))
    .sign(key.privateKey);
}

/** An unsigned JWT (`alg: none`), as an attacker would send one. */
export function unsignedToken(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

export interface KeyServer {
  url: string;
  jwksUrl: string;
  openIdConfigurationUrl: string;
  /** How many times each path was fetched. */
  fetches: Map<string, number>;
  /** While false every request is answered 503, as a key server in an outage. Default true. */
  setAvailable(available: boolean): void;
  stop(): Promise<void>;
}

/** Publishes public keys like Microsoft does: an OpenID configuration whose jwks_uri lists them. */
export async function startKeyServer(keys: JWK[], options: { available?: boolean } = {}): Promise<KeyServer> {
  const fetches = new Map<string, number>();
  let available = options.available ?? true;
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    fetches.set(path, (fetches.get(path) ?? 0) + 1);
    if (!available) return response.writeHead(503, { 'retry-after': '1' }).end();
    const send = (body: unknown) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (path === '/keys') return send({ keys });
    if (path === '/openidconfiguration')
      return send({ issuer: 'https://api.botframework.com', jwks_uri: `${url}/keys` });
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    jwksUrl: `${url}/keys`,
    openIdConfigurationUrl: `${url}/openidconfiguration`,
    fetches,
    setAvailable: (value) => {
      available = value;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A parsed JSON answer. Loosely typed on purpose: tests check its shape with expect().
 */
// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted with expect(), not trusted.
export type JsonBody = any;

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: JsonBody;
}

export interface PostOptions {
  token?: string;
  /** Sent as is instead of JSON.stringify(body). */
  rawBody?: string;
  contentType?: string | null;
  headers?: Record<string, string>;
}

/** A real HTTP POST; answers the status, headers and parsed body. */
export async function post(url: string, body: unknown, options: PostOptions = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, {
    method: 'POST',
    headers,
    ...(options.rawBody !== undefined || body !== undefined
      ? { body: options.rawBody ?? JSON.stringify(body) }
      : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export async function get(url: string, token?: string): Promise<{ status: number; body: JsonBody }> {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Polls `check` until it returns a value other than undefined; fails naming `what` after timeoutMs. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/**
 * A POST whose path goes on the wire exactly as given: fetch() would resolve `..` and `%2e%2e`
 * segments before sending, which hides what the server does with them.
 */
export function postRawPath(
  baseUrl: string,
  rawPath: string,
  body: unknown,
  token: string,
): Promise<HttpAnswer> {
  const { hostname, port } = new URL(baseUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: hostname,
        port,
        method: 'POST',
        path: rawPath,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization: `Bearer ${token}`,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (typeof value === 'string') headers.set(name, value);
          }
          resolve({ status: response.statusCode ?? 0, headers, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}
