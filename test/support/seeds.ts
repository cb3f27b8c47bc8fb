/**
 * Extracts every JSON body from the Graph pages in `<repo>/../shared/seeds` (design.md: the API
 * reference Handoff is built against), so that tests can prove src/graph reads all of them.
 *
 * The pages come in two forms:
 * - Markdown (seeds 000-002): bodies are fenced ```json blocks, or follow the headers inside a
 *   fenced ```http block. JSON inside HTML comments (`<!-- { "blockType": ... } -->`) is page
 *   metadata, not a body, and is skipped (and listed in `skipped`).
 * - Plain text (seeds 003, 004): a body is an unfenced `{` line (column 0) after a request line
 *   (`POST https://...`), a status line (`HTTP/1.1 201 Created`) or a notification heading
 *   (`Delta roster enabled`), and runs to its matching `}`.
 *
 * A body's kind comes from the nearest HTTP line before it: a POST to the bot's callback is a
 * notification, a POST to Graph is a request, and a status line is the response to the last Graph
 * request. Bodies are parsed as JSON, else as JSON5 (the seeds have trailing commas), else from
 * a corrected copy in test/fixtures/seeds (see the README there).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import JSON5 from 'json5';

export const seedBodyKinds = [
  'notification',
  'answerRequest',
  'createCallRequest',
  'inviteRequest',
  'callResponse',
  'operationResponse',
] as const;
export type SeedBodyKind = (typeof seedBodyKinds)[number];

export interface SeedBody {
  /** The seed's file name, e.g. `000_98e43ab290287df5.txt`. */
  seed: string;
  /** 1-based line of the body's opening `{` in the seed. */
  line: number;
  /** `<seed number>:<line>`, e.g. `000:22`: names the body in messages and lookups. */
  ref: string;
  kind: SeedBodyKind;
  /** The HTTP line the kind was derived from (`POST https://bot.contoso.com/api/calls`, `HTTP/1.1 200 OK`). */
  httpLine: string;
  httpLineNumber: number;
  /** The body exactly as the seed prints it. */
  raw: string;
  /** `json` for valid JSON, `json5` for the seeds' trailing commas, `fixture` for a corrected copy. */
  parsedWith: 'json' | 'json5' | 'fixture';
  /** Set when parsedWith is `fixture`: the corrected copy that stands in for `raw`. */
  fixture?: { path: string; text: string };
  /** The parsed body, deeply frozen: tests that want to change it must clone it first. */
  json: unknown;
}

export interface SkippedSeedJson {
  seed: string;
  line: number;
  ref: string;
  reason: 'htmlComment' | 'escapedMediaBlob';
  text: string;
}

export interface SeedCorpus {
  seedsDir: string;
  /** The seed file names, in order. */
  seeds: string[];
  bodies: readonly SeedBody[];
  skipped: readonly SkippedSeedJson[];
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The seeds sit beside the repository: /work/shared/seeds for the repo at /work/main. */
const defaultSeedsDir = join(repoRoot, '..', 'shared', 'seeds');
export const seedFixturesDir = join(repoRoot, 'test', 'fixtures', 'seeds');

const requestLine = /^(GET|POST|PUT|PATCH|DELETE)\s+(\S+)(?:\s+HTTP\/[\d.]+)?\s*$/;
const statusLine = /^HTTP\/\d(?:\.\d)?\s+\d{3}\b/;
const fenceOpen = /^```\s*([\w-]*)\s*$/;
const fenceClose = /^```\s*$/;
const graphOrigin = /^https:\/\/graph\.microsoft\.com\/(?:beta|v1\.0)(?=\/)/i;

type GraphRequestKind = 'answerRequest' | 'createCallRequest' | 'inviteRequest';
type HttpContext =
  | { type: 'request'; kind: 'notification' | GraphRequestKind; text: string; line: number }
  | { type: 'status'; text: string; line: number };

interface RawBody {
  line: number;
  raw: string;
  kind: SeedBodyKind;
  httpLine: string;
  httpLineNumber: number;
}

function seedNumber(seed: string): string {
  return seed.split('_')[0] ?? seed;
}

/** What a request line is: Graph's own paths are requests, anything else is the bot's callback. */
function requestKind(requestText: string, target: string, where: string): 'notification' | GraphRequestKind {
  const url = target.replace(graphOrigin, '');
  // A POST to another host (https://bot.contoso.com/api/calls, .../callback) or to the bare
  // `/callback` of seed 002 is Graph notifying the bot.
  if (/^https?:\/\//i.test(url) || url === '/callback') return 'notification';
  const path = url.replace(/[?#].*$/, '');
  if (/\/calls\/[^/]+\/answer$/i.test(path)) return 'answerRequest';
  if (/\/calls\/[^/]+\/participants\/invite$/i.test(path)) return 'inviteRequest';
  if (/^\/(?:app|communications)\/calls$/i.test(path)) return 'createCallRequest';
  throw new Error(`${where}: cannot tell what the request line "${requestText}" is; teach requestKind()`);
}

/** Finds the line holding the `}` that closes the `{` at lines[start], minding JSON strings. */
function matchingBraceLine(lines: string[], start: number, where: string): number {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let index = start; index < lines.length; index++) {
    for (const char of lines[index] ?? '') {
      if (inString) {
        if (escaped) escaped = false;
        else if (char === '\\') escaped = true;
        else if (char === '"') inString = false;
      } else if (char === '"') inString = true;
      else if (char === '{' || char === '[') depth++;
      else if (char === '}' || char === ']') {
        depth--;
        if (depth === 0) return index;
      }
    }
  }
  throw new Error(`${where}: the body starting here never closes its braces`);
}

/** Scans one seed page for bodies and for JSON-looking text that is deliberately not a body. */
function scanSeed(seed: string, text: string): { bodies: RawBody[]; skipped: SkippedSeedJson[] } {
  const lines = text.split(/\r?\n/);
  const bodies: RawBody[] = [];
  const skipped: SkippedSeedJson[] = [];
  let http: HttpContext | undefined;
  let lastGraphRequest: GraphRequestKind | undefined;
  const where = (index: number) => `seed ${seed} line ${index + 1}`;

  const noteHttpLine = (line: string, index: number): boolean => {
    const request = requestLine.exec(line.trim());
    if (request) {
      const kind = requestKind(line.trim(), request[2] ?? '', where(index));
      if (kind !== 'notification') lastGraphRequest = kind;
      http = { type: 'request', kind, text: line.trim(), line: index + 1 };
      return true;
    }
    if (statusLine.test(line.trim())) {
      http = { type: 'status', text: line.trim(), line: index + 1 };
      return true;
    }
    return false;
  };

  const addBody = (startIndex: number, raw: string) => {
    if (http === undefined) throw new Error(`${where(startIndex)}: a body with no HTTP line before it`);
    let kind: SeedBodyKind;
    if (http.type === 'request') kind = http.kind;
    else if (lastGraphRequest === undefined)
      throw new Error(`${where(startIndex)}: a response body with no Graph request before it`);
    else kind = lastGraphRequest === 'createCallRequest' ? 'callResponse' : 'operationResponse';
    bodies.push({ line: startIndex + 1, raw, kind, httpLine: http.text, httpLineNumber: http.line });
  };

  const skip = (index: number, reason: SkippedSeedJson['reason']) => {
    skipped.push({
      seed,
      line: index + 1,
      ref: `${seedNumber(seed)}:${index + 1}`,
      reason,
      text: lines[index] ?? '',
    });
  };

  let index = 0;
  while (index < lines.length) {
    const line = lines[index] ?? '';

    // HTML comments carry page metadata such as `<!-- { "blockType": "example" } -->`: not bodies.
    if (line.includes('<!--')) {
      let end = index;
      while (end < lines.length && !(lines[end] ?? '').includes('-->')) end++;
      const brace = lines.slice(index, end + 1).findIndex((commentLine) => commentLine.includes('{'));
      if (brace >= 0) skip(index + brace, 'htmlComment');
      index = end + 1;
      continue;
    }

    const fence = fenceOpen.exec(line);
    if (fence) {
      const lang = (fence[1] ?? '').toLowerCase();
      let end = index + 1;
      while (end < lines.length && !fenceClose.test(lines[end] ?? '')) end++;
      if (end >= lines.length) throw new Error(`${where(index)}: code fence never closes`);
      const content = lines.slice(index + 1, end);
      if (lang === 'http') {
        // Request or status line, headers, a blank line, then the body (if any).
        let cursor = 0;
        while (cursor < content.length && (content[cursor] ?? '').trim() !== '') {
          noteHttpLine(content[cursor] ?? '', index + 1 + cursor);
          cursor++;
        }
        while (cursor < content.length && (content[cursor] ?? '').trim() === '') cursor++;
        if (cursor < content.length) {
          const bodyStart = index + 1 + cursor;
          if (!(content[cursor] ?? '').trimStart().startsWith('{'))
            throw new Error(`${where(bodyStart)}: an http block body that is not a JSON object`);
          addBody(bodyStart, content.slice(cursor).join('\n').trimEnd());
        }
      } else if (lang === 'json') {
        const first = content.findIndex((contentLine) => contentLine.trim() !== '');
        if (first < 0) throw new Error(`${where(index)}: empty json block`);
        addBody(index + 1 + first, content.slice(first).join('\n').trimEnd());
      } else if (content.some((contentLine) => contentLine.trimStart().startsWith('{'))) {
        throw new Error(
          `${where(index)}: a \`\`\`${lang} block with JSON in it; decide whether it is a body`,
        );
      }
      index = end + 1;
      continue;
    }

    if (noteHttpLine(line, index)) {
      index++;
      continue;
    }

    if (/^\{\s*$/.test(line)) {
      const end = matchingBraceLine(lines, index, where(index));
      const bodyLines = lines.slice(index, end + 1);
      addBody(index, bodyLines.join('\n').trimEnd());
      index = end + 1;
      continue;
    }

    if (line.startsWith('{')) {
      // Seed 004 (example 2) prints an example of the app-hosted media blob as one escaped line,
      // `{\"mpUri\":...}`: it is the *content* of the `blob` string, not a request body.
      if (line.startsWith('{\\"')) {
        skip(index, 'escapedMediaBlob');
        index++;
        continue;
      }
      throw new Error(`${where(index)}: a line that looks like JSON but is not a body; decide what it is`);
    }
    index++;
  }
  return { bodies, skipped };
}

function fixturePath(fixturesDir: string, seed: string, line: number): string {
  return join(fixturesDir, `${seed.replace(/\.[^.]+$/, '')}.L${line}.json`);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

type Attempt = { ok: true; json: unknown } | { ok: false; error: string };

function attempt(parse: (text: string) => unknown, text: string): Attempt {
  try {
    return { ok: true, json: parse(text) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** JSON first, JSON5 for the seeds' trailing commas, and only then a corrected fixture. */
function parseBody(
  fixturesDir: string,
  seed: string,
  body: RawBody,
): Pick<SeedBody, 'json' | 'parsedWith' | 'fixture'> {
  const fixture = fixturePath(fixturesDir, seed, body.line);
  const asJson = attempt(JSON.parse, body.raw);
  const asJson5 = asJson.ok ? asJson : attempt(JSON5.parse, body.raw);
  if (asJson5.ok) {
    if (existsSync(fixture))
      throw new Error(`${fixture} is stale: seed ${seed} line ${body.line} parses without it; delete it`);
    return { json: asJson5.json, parsedWith: asJson.ok ? 'json' : 'json5' };
  }
  if (!existsSync(fixture)) {
    const jsonError = asJson.ok ? '' : asJson.error;
    throw new Error(
      `seed ${seed} line ${body.line}: the body is neither JSON (${jsonError}) nor JSON5 (${asJson5.error}). ` +
        `Put the minimal correction of the seed's text in ${fixture} and say in ` +
        'test/fixtures/seeds/README.md which line was wrong and why.',
    );
  }
  const text = readFileSync(fixture, 'utf8');
  const fromFixture = attempt(JSON.parse, text);
  if (!fromFixture.ok) throw new Error(`${fixture} must be valid JSON: ${fromFixture.error}`);
  return { json: fromFixture.json, parsedWith: 'fixture', fixture: { path: fixture, text } };
}

/** The seeds folder; throws naming the expected place when it is missing. */
export function seedsDirectory(dir: string = defaultSeedsDir): string {
  if (!existsSync(dir)) {
    throw new Error(
      `Graph seed pages not found at ${dir}. They live beside the repository (<repo>/../shared/seeds, ` +
        'design.md); check out the shared folder next to the repo.',
    );
  }
  return dir;
}

const corpusCache = new Map<string, SeedCorpus>();

/**
 * Reads and extracts every seed page, once per folder. The folders can be given for the
 * extractor's own tests; everything else uses the defaults.
 */
export function loadSeedCorpus(
  dir: string = defaultSeedsDir,
  fixturesDir: string = seedFixturesDir,
): SeedCorpus {
  const cacheKey = `${dir}\n${fixturesDir}`;
  const cached = corpusCache.get(cacheKey);
  if (cached) return cached;
  const seedsDir = seedsDirectory(dir);
  const seeds = readdirSync(seedsDir)
    .filter((name) => /^\d{3}_.+\.txt$/.test(name))
    .sort();
  if (seeds.length === 0) throw new Error(`no seed pages (NNN_*.txt) in ${seedsDir}`);
  const bodies: SeedBody[] = [];
  const skipped: SkippedSeedJson[] = [];
  const fixturesUsed = new Set<string>();
  for (const seed of seeds) {
    const scanned = scanSeed(seed, readFileSync(join(seedsDir, seed), 'utf8'));
    skipped.push(...scanned.skipped);
    for (const body of scanned.bodies) {
      const parsed = parseBody(fixturesDir, seed, body);
      if (parsed.fixture) fixturesUsed.add(parsed.fixture.path);
      bodies.push({ seed, ref: `${seedNumber(seed)}:${body.line}`, ...body, ...parsed });
    }
  }
  if (existsSync(fixturesDir)) {
    const unused = readdirSync(fixturesDir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => join(fixturesDir, name))
      .filter((path) => !fixturesUsed.has(path));
    if (unused.length > 0)
      throw new Error(`fixtures that match no invalid seed body (stale or misnamed): ${unused.join(', ')}`);
  }
  const corpus = deepFreeze({ seedsDir, seeds, bodies, skipped });
  corpusCache.set(cacheKey, corpus);
  return corpus;
}

/** Every JSON body in the seed pages, in page and line order. */
export function listSeedBodies(): readonly SeedBody[] {
  return loadSeedCorpus().bodies;
}

export function seedBodiesOfKind(kind: SeedBodyKind): readonly SeedBody[] {
  return listSeedBodies().filter((body) => body.kind === kind);
}

export const seedNotifications = () => seedBodiesOfKind('notification');
export const seedAnswerRequests = () => seedBodiesOfKind('answerRequest');
export const seedCreateCallRequests = () => seedBodiesOfKind('createCallRequest');
export const seedInviteRequests = () => seedBodiesOfKind('inviteRequest');
export const seedCallResponses = () => seedBodiesOfKind('callResponse');
export const seedOperationResponses = () => seedBodiesOfKind('operationResponse');

/** One body by `<seed number>:<line>`, e.g. `seedBody('004:1084')`; throws when there is none. */
export function seedBody(ref: string): SeedBody {
  const body = listSeedBodies().find((candidate) => candidate.ref === ref);
  if (!body) {
    const known = listSeedBodies().map((candidate) => candidate.ref);
    throw new Error(`no seed body at ${ref}; known: ${known.join(', ')}`);
  }
  return body;
}
