/**
 * Handoff's own public webhook for row 1, built as `npm start` builds it (src/app/webhook.ts, info
 * logging), beside the test stack's, with one difference: its notification tokens are verified
 * against a key server the bench signs with, since the simulator does not hand out its tokens.
 * Verification is the real one (jose, JWKS over HTTP, issuer/audience/tenant checks).
 */
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { webhookDepsFor } from '../../src/app/webhook.js';
import { buildWebhookServer } from '../../src/webhook/index.js';
import type { HandoffTestStack } from '../../test/support/handoff-stack.js';
import {
  createSigningKey,
  forgeToken,
  type KeyServer,
  startKeyServer,
} from '../../test/support/webhook-fixtures.js';

export interface BenchWebhook {
  url: string;
  /** A bearer token the webhook accepts, signed now, valid for `lifetimeSeconds`. */
  token(lifetimeSeconds?: number): Promise<string>;
  stop(): Promise<void>;
}

const ISSUER = 'https://api.botframework.com';

/** Pino's lines go nowhere: formatting and writing them is still paid, as in production. */
function discardingStream(): Writable {
  return new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
}

export async function startBenchWebhook(stack: HandoffTestStack): Promise<BenchWebhook> {
  const key = await createSigningKey('bench-key');
  const keys: KeyServer = await startKeyServer([key.publicJwk]);
  try {
    const deps = webhookDepsFor(stack.config, stack.client, {
      simulator: stack.sim,
      logger: { level: 'info', stream: discardingStream() },
    });
    const app = buildWebhookServer({
      ...deps,
      notificationAuth: {
        ...(deps.notificationAuth.tokenCacheSize !== undefined
          ? { tokenCacheSize: deps.notificationAuth.tokenCacheSize }
          : {}),
        jwksUrl: keys.jwksUrl,
        issuers: [ISSUER],
        audience: stack.sim.botAppId,
        allowedTenants: [stack.sim.tenantId],
      },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    return {
      url,
      token: (lifetimeSeconds = 600) =>
        forgeToken(key, {
          issuer: ISSUER,
          audience: stack.sim.botAppId,
          tenantId: stack.sim.tenantId,
          expiresIn: lifetimeSeconds,
        }),
      stop: async () => {
        await app.close();
        await keys.stop();
      },
    };
  } catch (error) {
    await keys.stop();
    throw error;
  }
}
