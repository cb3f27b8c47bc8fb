// Issue 9.2 and the API part of 9.6: the API is closed unless someone opens it. The public listener
// (what Graph and the internet reach) serves notifications and health only; the API has its own
// listener, needs one of the configured bearer tokens, refuses to start unauthenticated with a
// tenant, and its error bodies carry nothing private. Real HTTP, real Temporal dev server.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/env.js';
import { getFreePort } from '../src/temporal/ports.js';
import { projectRoot } from '../src/temporal/project-root.js';
import { buildApiServer } from '../src/webhook/index.js';
import { sharedHandoffStack } from './support/handoff-stack.js';
import { TEST_CALLBACK_SECRET, testCaller } from './support/webhook-fixtures.js';

const TOKENS = [`new-${randomUUID()}`, `old-${randomUUID()}`];
const stack = sharedHandoffStack({ env: { HANDOFF_API_TOKEN: ` ${TOKENS[0]} , ${TOKENS[1]} ` } });

const tenant = {
  GRAPH_TENANT_ID: '49bfc225-8482-4ab8-94e7-76b48fdb9849',
  GRAPH_CLIENT_ID: '8a34a46b-3d17-4adc-8dce-dc4e7d572698',
  GRAPH_CLIENT_SECRET: 'secret',
  PUBLIC_BASE_URL: 'https://bot.contoso.com',
  HANDOFF_CALLBACK_SECRET: 'callback-secret-for-the-config-test-0123456789',
};

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

interface Answer {
  status: number;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: bodies are asserted with expect().
  body: any;
}

async function send(
  url: string,
  options: { method?: string; token?: string; body?: unknown; rawBody?: string; contentType?: string } = {},
): Promise<Answer> {
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(url, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
    },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, text, body: parsed };
}

const transferBody = () => ({
  callId: randomUUID(),
  target: { kind: 'joinMeetingId', joinMeetingId: '1234567890' },
  invitee: testCaller,
});

/** Every API route, as method and path. */
const apiRoutes = (): Array<[string, string]> => [
  ['POST', '/api/transfers'],
  ['GET', `/api/transfers/transfer-${randomUUID()}`],
  ['POST', `/api/transfers/transfer-${randomUUID()}/cancel`],
  ['POST', '/api/bot-calls'],
  ['GET', `/api/bot-calls/call-${randomUUID()}`],
  ['POST', `/api/bot-calls/call-${randomUUID()}/invitations`],
  ['POST', `/api/bot-calls/call-${randomUUID()}/transfers`],
  ['POST', `/api/bot-calls/call-${randomUUID()}/moves`],
  ['POST', `/api/bot-calls/call-${randomUUID()}/blind-transfers`],
  ['POST', `/api/bot-calls/call-${randomUUID()}/hang-up`],
  ['POST', `/api/incoming-calls/${randomUUID()}/redirect`],
  ['POST', `/api/incoming-calls/${randomUUID()}/reject`],
  ['GET', `/api/incoming-calls/${randomUUID()}`],
  ['POST', `/api/incoming-calls/${randomUUID()}/transfer`],
  ['GET', `/api/incoming-calls/${randomUUID()}/transfer`],
  ['POST', `/api/incoming-calls/${randomUUID()}/transfer/complete`],
  ['POST', `/api/incoming-calls/${randomUUID()}/transfer/abandon`],
  ['GET', '/openapi.json'],
];

describe('configuration', () => {
  it('puts the API on 127.0.0.1:3979 by default, apart from the webhook', () => {
    const config = loadConfig({});
    expect(config.api).toEqual({ host: '127.0.0.1', port: 3979, tokens: [], unsafeNoAuth: false });
    expect(config.webhook).toMatchObject({ host: '127.0.0.1', port: 3978 });
  });

  it('reads a comma-separated token list for rotation, and its own host and port', () => {
    const config = loadConfig({
      HANDOFF_API_TOKEN: 'token-new, token-old,',
      HANDOFF_API_HOST: '10.0.0.5',
      HANDOFF_API_PORT: '8443',
    });
    expect(config.api).toEqual({
      host: '10.0.0.5',
      port: 8443,
      tokens: ['token-new', 'token-old'],
      unsafeNoAuth: false,
    });
  });

  it('refuses tenant mode without a token, naming both settings; starts with a token or the unsafe opt-out', () => {
    const problems = problemsOf(tenant);
    expect(problems).toContain('HANDOFF_API_TOKEN is required in tenant mode');
    expect(problems).toContain('HANDOFF_API_UNSAFE_NO_AUTH=true');

    expect(loadConfig({ ...tenant, HANDOFF_API_TOKEN: 'token-1' }).api.tokens).toEqual(['token-1']);
    const unsafe = loadConfig({ ...tenant, HANDOFF_API_UNSAFE_NO_AUTH: 'true' });
    expect(unsafe.api).toMatchObject({ tokens: [], unsafeNoAuth: true });
    // Embedded mode (the simulator) may run without a token: the API listens on 127.0.0.1.
    expect(loadConfig({}).api.tokens).toEqual([]);
  });

  it('refuses a bad opt-out value, a bad port, and the webhook port for the API', () => {
    expect(problemsOf({ HANDOFF_API_UNSAFE_NO_AUTH: 'yes' })).toContain(
      'HANDOFF_API_UNSAFE_NO_AUTH must be "true" or "false"',
    );
    expect(problemsOf({ HANDOFF_API_PORT: '70000' })).toContain('HANDOFF_API_PORT must be a TCP port');
    expect(problemsOf({ PORT: '4000', HANDOFF_API_PORT: '4000' })).toContain(
      'HANDOFF_API_PORT (4000) must differ from PORT',
    );
  });
});

describe('the public listener', () => {
  it('answers 404 to every API route, with or without a valid token, and serves health', async () => {
    for (const [method, path] of apiRoutes()) {
      for (const token of [undefined, TOKENS[0]]) {
        const answer = await send(`${stack.webhookUrl}${path}`, {
          method,
          ...(token ? { token } : {}),
          ...(method === 'POST' ? { body: transferBody() } : {}),
        });
        expect([method, path, answer.status, answer.body?.error?.code]).toEqual([
          method,
          path,
          404,
          'not_found',
        ]);
      }
    }
    expect((await send(`${stack.webhookUrl}/healthz`)).status).toBe(200);
    expect((await send(`${stack.webhookUrl}/readyz`)).status).toBe(200);
  });

  it('is where notifications go; the API listener has no notification route', async () => {
    const onApi = await send(`${stack.apiUrl}/api/calls`, { body: { value: [] }, token: TOKENS[0] });
    expect(onApi.status).toBe(404);
    const onWebhook = await send(`${stack.webhookUrl}/api/calls`, { body: { value: [] } });
    // Refused for want of a Graph token: the route is there.
    expect(onWebhook.status).toBe(401);
  });
});

describe('the API listener', () => {
  it('refuses a missing, malformed or wrong token with 401 on every route but the OpenAPI document', async () => {
    for (const [method, path] of apiRoutes()) {
      if (path === '/openapi.json') continue;
      for (const authorization of [undefined, 'wrong-token', `${TOKENS[0]}x`, TOKENS.join(',')]) {
        const answer = await send(`${stack.apiUrl}${path}`, {
          method,
          ...(authorization ? { token: authorization } : {}),
          ...(method === 'POST' ? { body: transferBody() } : {}),
        });
        expect([method, path, authorization, answer.status, answer.body?.error?.code]).toEqual([
          method,
          path,
          authorization,
          401,
          'unauthorized',
        ]);
      }
    }
    // Basic auth with a valid token is not a bearer token.
    const basic = await fetch(`${stack.apiUrl}/api/transfers/transfer-x`, {
      headers: { authorization: `Basic ${TOKENS[0]}` },
    });
    expect(basic.status).toBe(401);
    expect(basic.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('accepts each listed token: the old one still works during a rotation', async () => {
    for (const token of TOKENS) {
      const unknown = await send(`${stack.apiUrl}/api/transfers/transfer-${randomUUID()}`, { token });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('transfer_not_found');
      const started = await send(`${stack.apiUrl}/api/transfers`, { token, body: transferBody() });
      expect(started.status, started.text).toBe(201);
    }
  });

  it('answers errors that carry no app id, tenant, token, stack trace or source path', async () => {
    const token = TOKENS[1]!;
    const answers: Answer[] = [
      await send(`${stack.apiUrl}/api/transfers`, { body: transferBody() }),
      await send(`${stack.apiUrl}/api/transfers`, { token: 'guess', body: transferBody() }),
      await send(`${stack.apiUrl}/api/transfers`, { token, body: { callId: 'x' } }),
      await send(`${stack.apiUrl}/api/transfers`, { token, rawBody: '{"callId":' }),
      await send(`${stack.apiUrl}/api/transfers`, {
        token,
        rawBody: JSON.stringify(transferBody()),
        contentType: 'text/plain',
      }),
      await send(`${stack.apiUrl}/api/bot-calls`, { token, body: { request: { kind: 'pstn' } } }),
      await send(`${stack.apiUrl}/api/bot-calls/call-${randomUUID()}/hang-up`, { token, body: {} }),
      await send(`${stack.apiUrl}/api/transfers/%zz`, { token }),
      await send(`${stack.apiUrl}/api/transfers/${'a'.repeat(300)}`, { token }),
      await send(`${stack.apiUrl}/nope`, { token }),
    ];
    // Temporal unreachable: the 503 names the call, not the connection's details.
    const connection = Connection.lazy({ address: `127.0.0.1:${await getFreePort()}` });
    const offline = buildApiServer({
      temporal: new Client({ connection, namespace: 'default' }),
      taskQueue: 'unreachable',
      namespace: 'default',
      publicBaseUrl: 'https://bot.handoff.test',
      botAppId: stack.sim.botAppId,
      tenantId: stack.sim.tenantId,
      incomingCallPolicy: {},
      notificationAuth: {
        jwksUrl: stack.sim.notificationAuth.jwksUrl,
        issuers: [stack.sim.notificationAuth.issuer],
        audience: stack.sim.notificationAuth.audience,
        allowedTenants: [stack.sim.tenantId],
      },
      callbackSecrets: [TEST_CALLBACK_SECRET],
      apiToken: TOKENS,
      logger: false,
    });
    try {
      await offline.listen({ host: '127.0.0.1', port: 0 });
      const offlineUrl = `http://127.0.0.1:${(offline.server.address() as AddressInfo).port}`;
      answers.push(await send(`${offlineUrl}/api/transfers`, { token, body: transferBody() }));
      answers.push(await send(`${offlineUrl}/api/bot-calls/call-${randomUUID()}`, { token }));
    } finally {
      await offline.close();
      await connection.close();
    }

    expect(answers.map((answer) => answer.status)).toEqual([
      401, 401, 400, 400, 415, 400, 404, 400, 400, 404, 503, 503,
    ]);
    const secrets = [
      stack.sim.botAppId,
      stack.sim.tenantId,
      ...TOKENS,
      stack.sim.notificationAuth.jwksUrl,
      stack.sim.notificationAuth.issuer,
      stack.sim.url,
      stack.config.temporal.address!,
    ];
    for (const answer of answers) {
      expect(answer.body?.error, answer.text).toMatchObject({ code: expect.any(String) });
      for (const secret of secrets) expect(answer.text.toLowerCase()).not.toContain(secret.toLowerCase());
      expect(answer.text).not.toMatch(/\bat .+:\d+:\d+|node_modules|\/src\/|\.ts\b/);
    }
  });
});

describe("src/bin/webhook.ts (docker-compose's webhook process)", () => {
  it('listens on both addresses, prints both URLs, and keeps the API off the public one', async () => {
    const [port, apiPort] = [await getFreePort(), await getFreePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin/webhook.ts'], {
      cwd: projectRoot(),
      env: {
        PATH: process.env.PATH,
        TEMPORAL_ADDRESS: stack.config.temporal.address,
        TEMPORAL_NAMESPACE: stack.config.temporal.namespace,
        SIMULATOR_URL: stack.sim.url,
        HOST: '127.0.0.1',
        PORT: String(port),
        HANDOFF_API_PORT: String(apiPort),
        HANDOFF_API_TOKEN: TOKENS.join(','),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('ready') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(output).toContain(`webhook (public: notifications and health) on http://127.0.0.1:${port}`);
      expect(output).toContain(`API on http://127.0.0.1:${apiPort}`);
      expect(output).toContain(`http://127.0.0.1:${apiPort}/openapi.json`);
      expect(output).toContain('bearer token required (2 accepted)');

      const publicAnswer = await send(`http://127.0.0.1:${port}/api/transfers/transfer-x`, {
        token: TOKENS[0],
      });
      expect(publicAnswer.status).toBe(404);
      const apiAnswer = await send(`http://127.0.0.1:${apiPort}/api/transfers/transfer-${randomUUID()}`, {
        token: TOKENS[1],
      });
      expect(apiAnswer.status, apiAnswer.text).toBe(404);
      expect(apiAnswer.body.error.code).toBe('transfer_not_found');
      expect((await send(`http://127.0.0.1:${apiPort}/api/transfers/transfer-x`)).status).toBe(401);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('refuses to start with a tenant and no API token, naming both settings', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin/webhook.ts'], {
      cwd: projectRoot(),
      env: { PATH: process.env.PATH, ...tenant, TEMPORAL_ADDRESS: stack.config.temporal.address },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain('HANDOFF_API_TOKEN is required in tenant mode');
    expect(output).toContain('HANDOFF_API_UNSAFE_NO_AUTH=true');
  });
});
