/**
 * The JSON body parser: fastify's own (which refuses `__proto__` and `constructor.prototype` keys)
 * behind a nesting limit. Graph's notifications nest about ten levels deep. A body nested thousands
 * of levels deep parses fine, but anything that walks it recursively later overflows the stack
 * (JSON.stringify does at 10,000 levels, and the Temporal client runs it to encode a signal): a
 * valid notification with such a member would then be answered with a 500 instead of a 400.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

/** Deeper than any Graph payload (about 10 levels) by a wide margin. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `text` opens more than `maxDepth` objects or arrays inside each other. One pass over the
 * characters, no recursion; brackets inside strings do not count. Malformed JSON is left to JSON.parse.
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c /* \ */) index++;
      else if (code === 0x22 /* " */) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      if (++depth > maxDepth) return true;
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/** Replaces fastify's `application/json` parser with the same parser behind the nesting limit. */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
    // parseAs 'string' hands over a string; the type also allows a Buffer.
    const body = typeof raw === 'string' ? raw : raw.toString('utf8');
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      done(
        new HttpError(
          400,
          'json_too_deep',
          `the JSON body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep; Graph notifications and transfer requests need about 10`,
        ),
        undefined,
      );
      return;
    }
    parseJson(request, body, done);
  });
}
