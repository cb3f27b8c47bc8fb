/**
 * Row 5's webhook processes run compiled JavaScript, as the Docker image runs Handoff's webhook
 * (`node dist/src/bin/webhook.js`): under tsx, each process would also carry tsx's loader, a second
 * V8 isolate of ~35 MB that no deployment has (docs/performance.md, row 5). The bench compiles
 * bench/perf/webhook-process.ts and what it imports with the project's own tsc and settings, into a
 * folder under node_modules/.cache so that the compiled files resolve the project's packages.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/temporal/project-root.js';

const run = promisify(execFile);

/** Compiles the webhook process; returns its compiled entry point. */
export async function compileWebhookProcess(): Promise<string> {
  const root = projectRoot();
  const cacheDir = join(root, 'node_modules', '.cache', 'handoff-bench');
  const outDir = join(cacheDir, 'build');
  const tsconfigPath = join(cacheDir, 'tsconfig.webhook-process.json');
  await mkdir(cacheDir, { recursive: true });
  // Paths are absolute: `extends` would resolve relative ones against this file, not the project.
  const tsconfig = {
    extends: join(root, 'tsconfig.json'),
    compilerOptions: { noEmit: false, sourceMap: false, rootDir: root, outDir },
    files: [join(root, 'bench', 'perf', 'webhook-process.ts')],
    include: [],
  };
  await writeFile(tsconfigPath, `${JSON.stringify(tsconfig, null, 2)}\n`);
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', tsconfigPath], { cwd: root });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc could not compile the bench's webhook process:\n${stdout}${stderr}`);
  }
  return join(outDir, 'bench', 'perf', 'webhook-process.js');
}
