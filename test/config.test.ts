import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, seedMeetingTarget } from '../src/config/env.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const tenant = {
  GRAPH_TENANT_ID: '49bfc225-8482-4ab8-94e7-76b48fdb9849',
  GRAPH_CLIENT_ID: '8a34a46b-3d17-4adc-8dce-dc4e7d572698',
  GRAPH_CLIENT_SECRET: 'secret',
  PUBLIC_BASE_URL: 'https://bot.contoso.com/',
  // Tenant mode needs an API token (test/api-access.test.ts).
  HANDOFF_API_TOKEN: 'api-token',
};

describe('loadConfig', () => {
  it('runs on the embedded defaults when no tenant is configured', () => {
    const config = loadConfig({});
    expect(config.mode).toBe('embedded');
    expect(config.temporal).toMatchObject({
      namespace: 'default',
      taskQueue: 'handoff',
      embedded: { port: 7233, uiPort: 8233 },
    });
    expect(config.temporal.address).toBeUndefined();
    expect(config.temporal.uiUrl).toBe('http://127.0.0.1:8233');
    expect(config.webhook).toMatchObject({
      host: '127.0.0.1',
      port: 3978,
      publicBaseUrl: 'http://127.0.0.1:3978',
    });
    expect(config.defaultTarget).toEqual(seedMeetingTarget);
    expect(config.tenant).toBeUndefined();
    expect(config.simulator.port).toBe(4010);
  });

  it('reads a tenant, its cloud and the Bot Framework token settings', () => {
    const config = loadConfig({ ...tenant, GRAPH_CLOUD: 'usGovL4', NOTIFICATION_ALLOWED_TENANTS: 'a, b' });
    expect(config.mode).toBe('tenant');
    expect(config.tenant).toMatchObject({
      tenantId: tenant.GRAPH_TENANT_ID,
      graphBaseUrl: 'https://graph.microsoft.us/v1.0',
    });
    expect(config.tenant?.cloud.authorityHost).toBe('https://login.microsoftonline.us');
    expect(config.webhook.publicBaseUrl).toBe('https://bot.contoso.com');
    expect(config.notificationAuth).toEqual({
      openIdConfigurationUrl: 'https://login.botframework.com/v1/.well-known/openidconfiguration',
      issuers: ['https://api.botframework.com'],
      audience: tenant.GRAPH_CLIENT_ID,
      allowedTenantIds: ['a', 'b'],
    });
    // With a real tenant nothing is transferred until a target is configured.
    expect(config.defaultTarget).toBeUndefined();
  });

  it('names every missing tenant setting', () => {
    const problems = problemsOf({ GRAPH_TENANT_ID: 'x' });
    expect(problems.join('\n')).toMatch(/GRAPH_CLIENT_ID is required/);
    expect(problems.join('\n')).toMatch(/GRAPH_CLIENT_SECRET or GRAPH_CERTIFICATE_PATH/);
    expect(problems.join('\n')).toMatch(/PUBLIC_BASE_URL is required/);
  });

  it('refuses an http callback address for real Graph, bad ports, clouds and targets', () => {
    expect(problemsOf({ ...tenant, PUBLIC_BASE_URL: 'http://bot.contoso.com' }).join()).toMatch(
      /PUBLIC_BASE_URL must be an https URL/,
    );
    expect(problemsOf({ PORT: '99999' }).join()).toMatch(/PORT must be a TCP port/);
    expect(problemsOf({ ...tenant, GRAPH_CLOUD: 'mars' }).join()).toMatch(
      /GRAPH_CLOUD: Unknown national cloud "mars"/,
    );
    expect(problemsOf({ HANDOFF_DEFAULT_TARGET: '{"kind":' }).join()).toMatch(
      /HANDOFF_DEFAULT_TARGET must be JSON/,
    );
    expect(problemsOf({ HANDOFF_DEFAULT_TARGET: '{"kind":"joinMeetingId"}' }).join()).toMatch(
      /HANDOFF_DEFAULT_TARGET is invalid/,
    );
    expect(
      problemsOf({
        GRAPH_CERTIFICATE_PATH: '/nonexistent/key.pem',
        GRAPH_TENANT_ID: 't',
        GRAPH_CLIENT_ID: 'c',
      }).join(),
    ).toMatch(/GRAPH_CERTIFICATE_PATH names a file that cannot be read/);
    expect(problemsOf({ LOG_LEVEL: 'loud' }).join()).toMatch(/LOG_LEVEL must be one of/);
  });

  it('takes a join-by-id default target', () => {
    const config = loadConfig({
      HANDOFF_DEFAULT_TARGET: '{"kind":"joinMeetingId","joinMeetingId":"1234567","passcode":"psw123"}',
    });
    expect(config.defaultTarget).toEqual({
      kind: 'joinMeetingId',
      joinMeetingId: '1234567',
      passcode: 'psw123',
    });
  });

  it('points at a Temporal cluster with TLS and an API key', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.a1b2c',
      TEMPORAL_API_KEY: 'key',
    });
    expect(config.temporal).toMatchObject({
      address: 'ns.a1b2c.tmprl.cloud:7233',
      namespace: 'ns.a1b2c',
      apiKey: 'key',
      tls: {},
    });
    expect(config.temporal.uiUrl).toBeUndefined();
  });
});
