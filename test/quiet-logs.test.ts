// The suite's setup keeps Temporal's logs (activity and workflow failures with their stack traces,
// core warnings) out of the output of passing tests, and prints them with a test that failed.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../src/temporal/project-root.js';

function runFixture(): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    [
      'node_modules/vitest/vitest.mjs',
      'run',
      '--config',
      'test/fixtures/quiet-logs/vitest.config.ts',
      '--reporter',
      'default',
    ],
    {
      cwd: projectRoot(),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('Temporal logs in test output', () => {
  it('are silent for a passing test and printed, with the stack, for a failing one', async () => {
    const { code, output } = await runFixture();
    expect(code).toBe(1);
    expect(output).toContain('1 failed');
    expect(output).toContain('1 passed');
    expect(output).not.toContain('EXPECTED-FAILURE-STACK');
    expect(output).toContain('Temporal logged while "fails after an activity failure nobody expected" ran');
    expect(output).toContain('Activity failed: the one that explains the failure');
    expect(output).toContain('REAL-FAILURE-STACK');
    expect(output).toMatch(/REAL-FAILURE-STACK\n\s+at /);
  }, 120_000);
});
