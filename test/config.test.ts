import { describe, expect, it } from 'vitest';
import { ConfigError, EMBEDDED_CALLBACK_SECRET, loadConfig, seedMeetingTarget } from '../src/config/env.js';

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
  HANDOFF_CALLBACK_SECRET: 'callback-secret-of-the-config-tests-0123456789',
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

  it('reads a tenant, its cloud and the calling notification settings', () => {
    const config = loadConfig({ ...tenant, GRAPH_CLOUD: 'usGovL4', NOTIFICATION_ALLOWED_TENANTS: 'a, b' });
    expect(config.mode).toBe('tenant');
    expect(config.tenant).toMatchObject({
      tenantId: tenant.GRAPH_TENANT_ID,
      graphBaseUrl: 'https://graph.microsoft.us/v1.0',
    });
    expect(config.tenant?.cloud.authorityHost).toBe('https://login.microsoftonline.us');
    expect(config.webhook.publicBaseUrl).toBe('https://bot.contoso.com');
    expect(config.notificationAuth).toEqual({
      openIdConfigurationUrl: 'https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration',
      issuers: ['https://api.botframework.com', 'https://graph.microsoft.com'],
      audience: tenant.GRAPH_CLIENT_ID,
      allowedTenants: ['a', 'b'],
    });
    expect(config.notifications).toEqual({
      callbackSecrets: [tenant.HANDOFF_CALLBACK_SECRET],
      budgetMs: 3000,
      tokenCacheSize: 1000,
    });
    // With a real tenant nothing is transferred until a target is configured.
    expect(config.defaultTarget).toBeUndefined();
  });

  it("accepts the bot's own tenant by default, a list, or any tenant with '*' alone", () => {
    expect(loadConfig(tenant).notificationAuth?.allowedTenants).toEqual([tenant.GRAPH_TENANT_ID]);
    expect(
      loadConfig({ ...tenant, NOTIFICATION_ALLOWED_TENANTS: '*' }).notificationAuth?.allowedTenants,
    ).toBe('any');
    expect(problemsOf({ ...tenant, NOTIFICATION_ALLOWED_TENANTS: '*, a' }).join()).toMatch(
      /NOTIFICATION_ALLOWED_TENANTS is either "\*" \(any tenant\) or a list of tenant ids, not both/,
    );
    expect(
      loadConfig({ ...tenant, NOTIFICATION_ISSUERS: 'https://api.botframework.com' }).notificationAuth
        ?.issuers,
    ).toEqual(['https://api.botframework.com']);
  });

  it('requires HANDOFF_CALLBACK_SECRET with a tenant; embedded mode has a fixed simulator-only default', () => {
    const { HANDOFF_CALLBACK_SECRET: _, ...withoutSecret } = tenant;
    expect(problemsOf(withoutSecret).join()).toMatch(/HANDOFF_CALLBACK_SECRET is required in tenant mode/);
    expect(problemsOf({ ...tenant, HANDOFF_CALLBACK_SECRET: 'short' }).join()).toMatch(
      /HANDOFF_CALLBACK_SECRET: every secret in the list must be at least 32 characters/,
    );
    expect(problemsOf({ ...tenant, HANDOFF_CALLBACK_SECRET: EMBEDDED_CALLBACK_SECRET }).join()).toMatch(
      /must not be the embedded \(simulator-only\) default in tenant mode/,
    );
    const rotating = `${'n'.repeat(32)}, ${'o'.repeat(32)}`;
    expect(
      loadConfig({ ...tenant, HANDOFF_CALLBACK_SECRET: rotating }).notifications.callbackSecrets,
    ).toEqual(['n'.repeat(32), 'o'.repeat(32)]);
    // The same in every `npm start`: running workflows keep working callback URLs after a restart.
    expect(loadConfig({}).notifications.callbackSecrets).toEqual([EMBEDDED_CALLBACK_SECRET]);
    expect(loadConfig({}).notifications.callbackSecrets).toEqual(
      loadConfig({}).notifications.callbackSecrets,
    );
  });

  it('keeps the notification budget well under the 5 s Graph waits', () => {
    expect(loadConfig({ NOTIFICATION_BUDGET_MS: '2000' }).notifications.budgetMs).toBe(2000);
    for (const bad of ['5000', '100', 'soon']) {
      expect(problemsOf({ NOTIFICATION_BUDGET_MS: bad }).join()).toMatch(
        /NOTIFICATION_BUDGET_MS must be an integer from 500 to 4500/,
      );
    }
  });

  it("reads the webhook's drain delay", () => {
    expect(loadConfig({}).drainDelayMs).toBe(0);
    expect(loadConfig({ HANDOFF_DRAIN_DELAY_MS: '5000' }).drainDelayMs).toBe(5000);
    for (const bad of ['-1', '1.5', 'soon', '200000']) {
      expect(problemsOf({ HANDOFF_DRAIN_DELAY_MS: bad }).join()).toMatch(
        /HANDOFF_DRAIN_DELAY_MS must be an integer from 0 to 120000/,
      );
    }
  });

  it('reads the worker metrics address, off by default', () => {
    expect(loadConfig({}).workerMetricsAddress).toBeUndefined();
    expect(loadConfig({ HANDOFF_WORKER_METRICS_ADDRESS: '127.0.0.1:9464' }).workerMetricsAddress).toBe(
      '127.0.0.1:9464',
    );
    expect(loadConfig({ HANDOFF_WORKER_METRICS_ADDRESS: '[::1]:0' }).workerMetricsAddress).toBe('[::1]:0');
    for (const bad of ['9464', 'http://127.0.0.1:9464', '127.0.0.1:99999', '127.0.0.1:']) {
      expect(problemsOf({ HANDOFF_WORKER_METRICS_ADDRESS: bad }).join()).toMatch(
        /HANDOFF_WORKER_METRICS_ADDRESS must be host:port/,
      );
    }
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
