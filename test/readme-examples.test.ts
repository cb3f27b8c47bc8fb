// Every example of the README and the docs works as written. The shell examples (blocks that start
// from `HANDOFF_API=${HANDOFF_API:-…}`) run with bash against a real stack on free ports (Temporal dev
// server, simulator, webhook, worker): the test only points the base URL variables at it. The
// TypeScript snippets, which import `handoff/client`, compile with tsc against the built package.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../src/temporal/project-root.js';
import {
  buildTestWorkflowBundle,
  type HandoffTestStack,
  startHandoffTestStack,
  startTestTemporal,
  type TestTemporal,
  type TestWorkflowBundle,
} from './support/handoff-stack.js';

const root = projectRoot();
const documents = ['README.md', ...readdirSync(join(root, 'docs')).map((name) => `docs/${name}`)].filter(
  (path) => path.endsWith('.md'),
);

interface Example {
  file: string;
  /** The heading the block is under, to name the test. */
  heading: string;
  language: string;
  code: string;
}

function examplesOf(file: string): Example[] {
  const text = readFileSync(join(root, file), 'utf8');
  const examples: Example[] = [];
  let heading = file;
  const fence = /^```(\w*)[^\n]*\n([\s\S]*?)^```/gm;
  let last = 0;
  for (let match = fence.exec(text); match; match = fence.exec(text)) {
    const before = text.slice(last, match.index);
    const headings = [...before.matchAll(/^#+ (.+)$/gm)];
    if (headings.length > 0) heading = headings.at(-1)![1]!;
    last = match.index + match[0].length;
    examples.push({ file, heading, language: match[1] ?? '', code: match[2] ?? '' });
  }
  return examples;
}

const all = documents.flatMap(examplesOf);
const runnable = all.filter(
  (example) => example.language === 'sh' && example.code.startsWith('HANDOFF_API=${HANDOFF_API:-'),
);
const snippets = all.filter((example) => example.language === 'ts');

let temporal: TestTemporal;
let bundle: TestWorkflowBundle;
let stack: HandoffTestStack;

/** The API listener (decisions.md #2: its own listener once it has one, the webhook's until then). */
const apiUrlOf = (testStack: HandoffTestStack): string =>
  (testStack as HandoffTestStack & { apiUrl?: string }).apiUrl ?? testStack.webhookUrl;

interface Run {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  const child = spawn(command, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const timer = setTimeout(() => {
    output += `\n(killed after ${timeoutMs} ms)`;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

beforeAll(async () => {
  [temporal, bundle] = await Promise.all([startTestTemporal(), buildTestWorkflowBundle()]);
  // As `npm start` runs on the embedded defaults: no API token.
  stack = await startHandoffTestStack({
    temporal,
    workflowBundlePath: bundle.path,
    env: { HANDOFF_API_TOKEN: '' },
  });
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.stop();
  bundle?.remove();
});

describe('the documentation', () => {
  it('has shell examples to run, and every curl of the docs is in one of them', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(5);
    for (const example of all.filter(
      (candidate) => candidate.language === 'sh' && !runnable.includes(candidate),
    )) {
      expect(
        example.code,
        `${example.file} (${example.heading}) calls the API outside a runnable example`,
      ).not.toMatch(/\bcurl\b/);
    }
  });

  it('documents every setting the configuration reads in docs/configuration.md', () => {
    const source = readFileSync(join(root, 'src', 'config', 'env.ts'), 'utf8');
    const configuration = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
    const settings = [...new Set([...source.matchAll(/'([A-Z][A-Z0-9_]{2,})'/g)].map((match) => match[1]!))];
    expect(settings.length).toBeGreaterThan(20);
    for (const setting of settings) expect(configuration, setting).toContain(`\`${setting}\``);
  });

  it('links only to pages that exist (or that other changes add: security, api-access, graph-requests, call-ownership)', () => {
    const addedElsewhere = ['security.md', 'api-access.md', 'graph-requests.md', 'call-ownership.md'];
    for (const file of documents) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+\.md)(?:#[^)]*)?\)/g)) {
        const path = join(root, file.includes('/') ? 'docs' : '', target!);
        if (addedElsewhere.some((name) => path.endsWith(`docs/${name}`))) continue;
        expect(() => readFileSync(path), `${file} links to ${target}`).not.toThrow();
      }
    }
  });

  it('names only npm scripts that exist', () => {
    const scripts = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts);
    for (const example of all.filter((candidate) => candidate.language === 'sh')) {
      for (const [, script] of example.code.matchAll(/npm run (?:--silent |-s )?([\w:-]+)/g)) {
        expect(scripts, `${example.file}: npm run ${script}`).toContain(script);
      }
    }
  });
});

describe.each(
  runnable.map((example, index) => [`${example.file} #${index + 1}: ${example.heading}`, example]),
)('shell example %s', (_name, example) => {
  it('runs as written against a running stack', async () => {
    const result = await run(
      'bash',
      ['-euo', 'pipefail', '-c', (example as Example).code],
      {
        HANDOFF_API: apiUrlOf(stack),
        HANDOFF_URL: stack.webhookUrl,
        SIMULATOR_URL: stack.sim.url,
      },
      90_000,
    );
    expect(result.code, result.output).toBe(0);
    // An answer may be 200 and still a failure: an operation's or a transfer's own status.
    expect(result.output).not.toMatch(/"(status|outcome)":"failed"/);
  }, 120_000);
});

describe('the TypeScript snippets', () => {
  const dir = join(root, 'dist', 'readme-snippets');

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('import handoff/client, which the package exports as built JavaScript', async () => {
    const build = await run('npm', ['run', '--silent', 'build:client'], {}, 180_000);
    expect(build.code, build.output).toBe(0);
    const loaded = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const client = await import('handoff/client'); console.log(Object.keys(client).sort().join(' '))",
      ],
      {},
      30_000,
    );
    expect(loaded.code, loaded.output).toBe(0);
    for (const name of [
      'HandoffClient',
      'HandoffApiError',
      'TRANSFER_WORKFLOW_TYPE',
      'inviteParticipantsUpdate',
    ]) {
      expect(loaded.output).toContain(name);
    }
    expect(snippets.length).toBeGreaterThanOrEqual(3);
    for (const snippet of snippets) expect(snippet.code, snippet.file).toContain("from 'handoff/client'");
  }, 200_000);

  it('compile with tsc, strict', async () => {
    mkdirSync(dir, { recursive: true });
    const files = snippets.map((snippet, index) => {
      const path = join(dir, `snippet-${index + 1}.ts`);
      writeFileSync(path, `// ${snippet.file}: ${snippet.heading}\n${snippet.code}\nexport {};\n`);
      return path;
    });
    const tsc = await run(
      process.execPath,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--target',
        'es2022',
        '--lib',
        'es2023,dom',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--types',
        'node',
        ...files,
      ],
      {},
      180_000,
    );
    expect(tsc.code, tsc.output).toBe(0);
  }, 200_000);
});
