/**
 * Handoff's own public webhook for rows 1 and 5, built as `npm start` builds it (src/app/webhook.ts,
 * info logging), with one difference: its notification tokens are verified against a key server the
 * bench signs with, since the simulator does not hand out its tokens. Verification is the real one
 * (jose, JWKS over HTTP, issuer/audience/tenant checks). Row 1 runs it in the bench's process; row 5
 * in a process of its own (bench/perf/webhook-process.ts), with the bench's signer.
 */
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import type { SimulatorConnection } from '../../src/app/simulator-connection.js';
import { webhookDepsFor } from '../../src/app/webhook.js';
import type { HandoffConfig } from '../../src/config/env.js';
import { buildWebhookServer } from '../../src/webhook/index.js';
import type { HandoffTestStack } from '../../test/support/handoff-stack.js';
import { createSigningKey, forgeToken, startKeyServer } from '../../test/support/webhook-fixtures.js';

export interface BenchWebhook {
  url: string;
  /** A bearer token the webhook accepts, signed now, valid for `lifetimeSeconds`. */
  token(lifetimeSeconds?: number): Promise<string>;
  stop(): Promise<void>;
}

const ISSUER = 'https://api.botframework.com';

/** Who the tokens are for: the simulator's bot and tenant. */
export interface TokenAudience {
  botAppId: string;
  tenantId: string;
}

/** The bench's signing key and the JWKS server that publishes it. */
export interface BenchSigner {
  jwksUrl: string;
  token(lifetimeSeconds?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startBenchSigner(audience: TokenAudience): Promise<BenchSigner> {
  const key = await createSigningKey('bench-key');
  const keys = await startKeyServer([key.publicJwk]);
  return {
    jwksUrl: keys.jwksUrl,
    token: (lifetimeSeconds = 600) =>
      forgeToken(key, {
        issuer: ISSUER,
        audience: audience.botAppId,
        tenantId: audience.tenantId,
        expiresIn: lifetimeSeconds,
      }),
    stop: () => keys.stop(),
  };
}

/** Pino's lines go nowhere: formatting and writing them is still paid, as in production. */
function discardingStream(): Writable {
  return new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
}

/** Handoff's webhook listening on a free port of 127.0.0.1, verifying tokens against `jwksUrl`. */
export async function listenBenchWebhook(
  config: HandoffConfig,
  client: Client,
  simulator: SimulatorConnection,
  jwksUrl: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const deps = webhookDepsFor(config, client, {
    simulator,
    logger: { level: 'info', stream: discardingStream() },
  });
  const app = buildWebhookServer({
    ...deps,
    notificationAuth: {
      ...(deps.notificationAuth.tokenCacheSize !== undefined
        ? { tokenCacheSize: deps.notificationAuth.tokenCacheSize }
        : {}),
      jwksUrl,
      issuers: [ISSUER],
      audience: simulator.botAppId,
      allowedTenants: [simulator.tenantId],
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    stop: () => app.close(),
  };
}

/** Row 1's webhook, in the bench's process beside the test stack's. */
export async function startBenchWebhook(stack: HandoffTestStack): Promise<BenchWebhook> {
  const signer = await startBenchSigner(stack.sim);
  try {
    const webhook = await listenBenchWebhook(stack.config, stack.client, stack.sim, signer.jwksUrl);
    return {
      url: webhook.url,
      token: signer.token,
      stop: async () => {
        await webhook.stop();
        await signer.stop();
      },
    };
  } catch (error) {
    await signer.stop();
    throw error;
  }
}
