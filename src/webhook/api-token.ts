import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * When an API token is configured, every route of the plugin `app` needs
 * `Authorization: Bearer <token>`. Plugins are encapsulated, so each API registers it itself.
 */
export function requireApiToken(app: FastifyInstance, apiToken: string | undefined, apiName: string): void {
  if (!apiToken) return;
  const expected = sha256(apiToken);
  app.addHook('onRequest', async (request) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    // Hashes have equal lengths, so the comparison takes the same time whatever was sent.
    if (!match?.[1] || !timingSafeEqual(sha256(match[1]), expected)) {
      throw new HttpError(
        401,
        'unauthorized',
        `the ${apiName} API needs "Authorization: Bearer <API token>"`,
        {
          headers: { 'www-authenticate': 'Bearer' },
        },
      );
    }
  });
}
