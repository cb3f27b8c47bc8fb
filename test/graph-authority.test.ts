// GRAPH_AUTHORITY_URL and GRAPH_AUTHORITY_METADATA_URL (issue 9, item 7): an operator can send the
// token requests to another authority (a proxy, a test tenant). Checked with real MSAL against the
// simulator's token endpoint behind an authority on a host MSAL has never heard of.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphClientFor } from '../src/app/graph.js';
import { ConfigError, loadConfig } from '../src/config/env.js';
import { createMsalTokenProvider } from '../src/graph/auth.js';
import { GraphAuthError } from '../src/graph/index.js';
import { type GraphSimulator, startSimulator } from '../src/simulator/index.js';

const tenantEnv = {
  GRAPH_TENANT_ID: '49bfc225-8482-4ab8-94e7-76b48fdb9849',
  GRAPH_CLIENT_ID: '8a34a46b-3d17-4adc-8dce-dc4e7d572698',
  GRAPH_CLIENT_SECRET: 'secret',
  PUBLIC_BASE_URL: 'https://bot.contoso.com/',
  // Settings other parts of tenant mode may require; this file is about the authority.
  HANDOFF_API_TOKEN: 'graph-authority-test-token',
  HANDOFF_CALLBACK_SECRET: 'graph-authority-test-callback-secret-0123456789',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('GRAPH_AUTHORITY_URL in the configuration', () => {
  it('is unset by default: tokens come from the cloud sign-in host', () => {
    expect(loadConfig(tenantEnv).tenant?.authority).toBeUndefined();
  });

  it('reads an https authority, and its host as the known authority', () => {
    const config = loadConfig({
      ...tenantEnv,
      GRAPH_AUTHORITY_URL: 'https://login.proxy.contoso.com/49bfc225-8482-4ab8-94e7-76b48fdb9849/',
      GRAPH_AUTHORITY_METADATA_URL: 'http://10.0.0.5:8080/openid-configuration',
    });
    expect(config.tenant?.authority).toEqual({
      url: 'https://login.proxy.contoso.com/49bfc225-8482-4ab8-94e7-76b48fdb9849',
      host: 'login.proxy.contoso.com',
      metadataUrl: 'http://10.0.0.5:8080/openid-configuration',
    });
  });

  it.each([
    ['http://login.proxy.contoso.com/tenant', 'GRAPH_AUTHORITY_URL must be an https URL (MSAL refuses http'],
    ['login.proxy.contoso.com', 'GRAPH_AUTHORITY_URL must be a URL, got "login.proxy.contoso.com"'],
  ])('refuses %s, naming the setting', (value, message) => {
    expect(problemsOf({ ...tenantEnv, GRAPH_AUTHORITY_URL: value }).join('\n')).toContain(message);
  });

  it('refuses GRAPH_AUTHORITY_METADATA_URL without GRAPH_AUTHORITY_URL', () => {
    expect(
      problemsOf({ ...tenantEnv, GRAPH_AUTHORITY_METADATA_URL: 'https://login.proxy.contoso.com/openid' }),
    ).toContain('GRAPH_AUTHORITY_METADATA_URL needs GRAPH_AUTHORITY_URL: the authority it describes');
  });
});

describe('tokens from a custom authority, with real MSAL', () => {
  let sim: GraphSimulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  const customAuthority = () => `https://login.handoff-proxy.test/${sim.tenantId}`;
  const metadataUrl = () => `${sim.url}/${sim.tenantId}/v2.0/.well-known/openid-configuration`;

  it('a tenant-mode Graph client gets its token there and reads a call', async () => {
    const config = loadConfig({
      ...tenantEnv,
      GRAPH_TENANT_ID: sim.tenantId,
      GRAPH_CLIENT_ID: sim.clientId,
      GRAPH_CLIENT_SECRET: sim.clientSecret,
      GRAPH_BASE_URL: sim.graphBaseUrl,
      GRAPH_AUTHORITY_URL: customAuthority(),
      GRAPH_AUTHORITY_METADATA_URL: metadataUrl(),
    });
    expect(config.mode).toBe('tenant');
    const { callId } = sim.placeAnsweredCall({ callbackUri: 'https://other.contoso.com/api/calls' });
    const before = sim.tokensIssued;
    // No simulator connection: the client is the one a real deployment builds from the settings.
    const graph = graphClientFor(config);
    const call = await graph.getCall(callId);
    expect(call).toMatchObject({
      id: callId,
      state: 'established',
      callbackUri: 'https://other.contoso.com/api/calls',
    });
    expect(sim.tokensIssued - before).toBe(1);
  });

  it('names the metadata URL when the OpenID configuration cannot be read', async () => {
    const provider = createMsalTokenProvider({
      tenantId: sim.tenantId,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      authority: customAuthority(),
      knownAuthorities: ['login.handoff-proxy.test'],
      authorityMetadataUrl: `${sim.url}/no-such-tenant/v2.0/.well-known/openid-configuration`,
    });
    const failure = await provider.getToken().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(GraphAuthError);
    expect((failure as GraphAuthError).message).toContain(
      `Could not read the OpenID configuration of authority ${customAuthority()} from ${sim.url}/no-such-tenant`,
    );
  });

  it('refuses an authorityMetadataUrl without knownAuthorities', () => {
    expect(() =>
      createMsalTokenProvider({
        tenantId: sim.tenantId,
        clientId: sim.clientId,
        clientSecret: sim.clientSecret,
        authority: customAuthority(),
        authorityMetadataUrl: metadataUrl(),
      }),
    ).toThrow(/knownAuthorities must list the authority's host/);
  });
});
