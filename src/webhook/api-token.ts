import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** One token, or several side by side while a new one is rolled out (HANDOFF_API_TOKEN=new,old). */
export type ApiTokens = string | readonly string[] | undefined;

export function apiTokenList(tokens: ApiTokens): string[] {
  if (tokens === undefined) return [];
  return (typeof tokens === 'string' ? [tokens] : [...tokens]).filter((token) => token.length > 0);
}

/**
 * Whether `presented` is one of the `expected` token hashes. Hashes have equal lengths, so each
 * comparison takes the same time whatever was sent; every token is compared, so the time does not
 * say which one matched either.
 */
function isAcceptedToken(presented: string, expected: readonly Buffer[]): boolean {
  const hash = sha256(presented);
  let accepted = false;
  for (const candidate of expected) accepted = timingSafeEqual(hash, candidate) || accepted;
  return accepted;
}

/**
 * When API tokens are configured, every route of the plugin `app` needs
 * `Authorization: Bearer <token>` with one of them. Plugins are encapsulated, so each API registers
 * it itself. The 401 says what the caller needs, never which tokens exist.
 */
export function requireApiToken(app: FastifyInstance, tokens: ApiTokens, apiName: string): void {
  const expected = apiTokenList(tokens).map(sha256);
  if (expected.length === 0) return;
  app.addHook('onRequest', async (request) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match?.[1] || !isAcceptedToken(match[1], expected)) {
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
