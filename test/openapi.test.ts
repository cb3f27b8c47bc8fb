// Issue 8.5: the API describes itself. `/openapi.json` on the API listener is an OpenAPI 3.1
// document generated from the route schemas, which come from the zod schemas the routes validate
// with: every route the API server registers is in it with its request body and answers.
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort } from '../src/temporal/ports.js';
import { jsonSchemaOf } from '../src/webhook/api-schemas.js';
import { botCallStartSchema } from '../src/webhook/call-request.js';
import { buildApiServer, buildWebhookServer, type WebhookDeps } from '../src/webhook/index.js';
import { transferRequestSchema } from '../src/webhook/transfer-request.js';
import { TEST_CALLBACK_SECRET } from './support/webhook-fixtures.js';

const API_TOKEN = 'openapi-test-token';

let connection: Connection;
let api: FastifyInstance;
let apiUrl: string;
const registered: Array<{ method: string; url: string; hidden: boolean; hasBody: boolean }> = [];
// biome-ignore lint/suspicious/noExplicitAny: the document is checked structurally below.
let document: any;

function deps(): WebhookDeps {
  return {
    temporal: new Client({ connection, namespace: 'default' }),
    taskQueue: 'openapi-test',
    namespace: 'default',
    publicBaseUrl: 'https://bot.handoff.test',
    botAppId: 'bot-app-id',
    incomingCallPolicy: {},
    notificationAuth: {
      jwksUrl: 'https://keys.handoff.test/jwks',
      issuers: ['issuer'],
      audience: 'bot',
      allowedTenants: 'any',
    },
    callbackSecrets: [TEST_CALLBACK_SECRET],
    apiToken: API_TOKEN,
    logger: false,
  };
}

beforeAll(async () => {
  // The document needs no Temporal: nothing listens here.
  connection = Connection.lazy({ address: `127.0.0.1:${await getFreePort()}` });
  api = buildApiServer(deps());
  // Routes are registered when the plugins load (at listen), so this sees every one of them.
  api.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      registered.push({
        method: method.toLowerCase(),
        url: route.url,
        hidden: Boolean((route.schema as { hide?: boolean } | undefined)?.hide),
        hasBody: route.schema?.body !== undefined,
      });
    }
  });
  await api.listen({ host: '127.0.0.1', port: 0 });
  apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  const response = await fetch(`${apiUrl}/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  document = await response.json();
});

afterAll(async () => {
  await api?.close();
  await connection?.close();
});

/** `/api/transfers/:workflowId` → `/api/transfers/{workflowId}`. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

/** Every `$ref` in `value`. */
function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, member] of Object.entries(value)) {
      if (key === '$ref' && typeof member === 'string') found.push(member);
      else refsIn(member, found);
    }
  }
  return found;
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document: version, info, paths, components with the bearer scheme', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(document.paths).length).toBeGreaterThan(0);
    for (const path of Object.keys(document.paths)) expect(path).toMatch(/^\//);
    expect(document.components.securitySchemes.bearerAuth).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    const methods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
    for (const [path, item] of Object.entries<Record<string, { responses?: object; parameters?: [] }>>(
      document.paths,
    )) {
      for (const [method, operation] of Object.entries(item)) {
        expect(methods.has(method), `${method} ${path}`).toBe(true);
        expect(Object.keys(operation.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
        for (const status of Object.keys(operation.responses ?? {})) expect(status).toMatch(/^[1-5]\d\d$/);
        // Every {name} in the path is a declared path parameter.
        for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
          expect(operation.parameters, `${method} ${path}`).toContainEqual(
            expect.objectContaining({ in: 'path', name, required: true }),
          );
        }
      }
    }
    // Every reference points into the document.
    for (const ref of refsIn(document)) {
      const target = ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
      expect(target, ref).toBeDefined();
    }
  });

  it('lists every route the API server registers, with its request body and its answers', () => {
    const routes = registered.filter((route) => !route.hidden);
    expect(routes.map((route) => `${route.method} ${route.url}`)).toEqual(
      expect.arrayContaining([
        'post /api/transfers',
        'get /api/transfers/:workflowId',
        'post /api/transfers/:workflowId/cancel',
        'post /api/bot-calls',
        'get /api/bot-calls/:workflowId',
        'post /api/bot-calls/:workflowId/invitations',
        'post /api/bot-calls/:workflowId/transfers',
        'post /api/bot-calls/:workflowId/moves',
        'post /api/bot-calls/:workflowId/hang-up',
        'get /healthz',
        'get /readyz',
      ]),
    );
    const documented = Object.entries<Record<string, unknown>>(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual(
      routes.map((route) => `${route.method} ${openApiPath(route.url)}`).sort(),
    );
    for (const route of routes) {
      const operation = document.paths[openApiPath(route.url)][route.method];
      const label = `${route.method} ${route.url}`;
      if (route.hasBody) {
        expect(operation.requestBody?.content?.['application/json']?.schema?.type, label).toBe('object');
      }
      const answers = Object.entries<{ description?: string; content?: Record<string, { schema?: object }> }>(
        operation.responses,
      );
      const success = answers.filter(([status]) => status.startsWith('2'));
      expect(success.length, label).toBeGreaterThan(0);
      for (const [status, answer] of answers) {
        expect(answer.description, `${label} ${status}`).toEqual(expect.any(String));
        expect(answer.content?.['application/json']?.schema, `${label} ${status}`).toBeDefined();
      }
      if (route.url.startsWith('/api/')) {
        expect(operation.security, label).toEqual([{ bearerAuth: [] }]);
        expect(operation.responses, label).toHaveProperty('401');
        expect(operation.responses, label).toHaveProperty('400');
      }
    }
  });

  it('takes the request bodies from the zod schemas the routes validate with', () => {
    const transferBody = document.paths['/api/transfers'].post.requestBody.content['application/json'].schema;
    const fromZod = jsonSchemaOf(transferRequestSchema);
    expect(transferBody.required).toEqual(fromZod.required);
    expect(transferBody.required).toEqual(expect.arrayContaining(['callId', 'target', 'invitee']));
    expect(Object.keys(transferBody.properties)).toEqual(Object.keys(fromZod.properties as object));
    expect(transferBody.additionalProperties).toBe(false);
    const targetKinds = transferBody.properties.target.oneOf.map(
      (variant: { properties: { kind: { const?: string; enum?: string[] } } }) =>
        variant.properties.kind.const ?? variant.properties.kind.enum?.[0],
    );
    expect(targetKinds.sort()).toEqual(['groupCall', 'joinMeetingId', 'meeting']);

    const botCallBody = document.paths['/api/bot-calls'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(botCallBody.properties)).toEqual(
      Object.keys(jsonSchemaOf(botCallStartSchema).properties as object),
    );
    expect(document.paths['/api/bot-calls'].post.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'idempotency-key' }),
    );
  });

  it("is served without a token, on the API listener only; the routes keep zod's messages", async () => {
    const webhook = buildWebhookServer(deps());
    try {
      await webhook.listen({ host: '127.0.0.1', port: 0 });
      const publicUrl = `http://127.0.0.1:${(webhook.server.address() as AddressInfo).port}`;
      expect((await fetch(`${publicUrl}/openapi.json`)).status).toBe(404);
    } finally {
      await webhook.close();
    }
    // The schemas document; zod validates: its 400 names each field, and an unknown key is named too.
    const refused = await fetch(`${apiUrl}/api/transfers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ callId: 'c1', target: { kind: 'groupCall', targets: [] }, extra: 1 }),
    });
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { error: { code: string; issues: Array<{ path: string }> } };
    expect(body.error.code).toBe('invalid_transfer_request');
    expect(body.error.issues.map((issue) => issue.path)).toEqual(
      expect.arrayContaining(['target.targets', 'invitee', '(body)']),
    );
  });
});
