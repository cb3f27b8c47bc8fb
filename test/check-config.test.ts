// Config errors come before the slow steps: `npm start`'s prestart reads the configuration first,
// so a wrong setting is named before the Temporal binaries are installed or the workflows bundled.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../src/temporal/project-root.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function npm(args: string[], env: Record<string, string>): Promise<Run> {
  const child = spawn('npm', args, {
    cwd: projectRoot(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm start with a wrong setting', () => {
  it('names the setting before it installs Temporal or bundles the workflows', async () => {
    // A setup step that ran would fail on this path first, with its own message.
    const run = await npm(['run', '--silent', 'prestart'], {
      HANDOFF_TEMPORAL_PORT: 'abc',
      TEMPORAL_CLI_PATH: '/nonexistent/temporal',
    });

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('HANDOFF_TEMPORAL_PORT must be a TCP port (0-65535), got "abc"');
    // Neither setup (it would name TEMPORAL_CLI_PATH) nor the bundle step ran.
    expect(run.stderr + run.stdout).not.toContain('TEMPORAL_CLI_PATH');
    expect(run.stderr + run.stdout).not.toContain('workflow bundle');
  });

  it('says the configuration is fine, and which mode it selects, when it is', async () => {
    const run = await npm(['run', '--silent', 'check-config'], {});
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(
      '[handoff] configuration ok: embedded defaults (Graph simulator), embedded Temporal dev server',
    );
    expect(run.code).toBe(0);
  });

  it('checks the routing rule file: the rule and field of a bad one, the rules of a good one', async () => {
    const bad = await npm(['run', '--silent', 'check-config'], {
      HANDOFF_ROUTING_RULES: 'test/fixtures/routing-rules-unknown-target.yaml',
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'HANDOFF_ROUTING_RULES (test/fixtures/routing-rules-unknown-target.yaml): rules[1] ("vip"): action.target: unknown target "gold-room" (targets: front-desk)',
    );
    const good = await npm(['run', '--silent', 'check-config'], {
      HANDOFF_ROUTING_RULES: 'examples/routing-rules.yaml',
    });
    expect(good.stderr).toBe('');
    expect(good.stdout).toContain(
      '[handoff] routing rules ok: 4 rules from examples/routing-rules.yaml (version 2026-12-04.1); unmatched calls: reject',
    );
    expect(good.code).toBe(0);
  });

  it('warns, without failing, about a decision hook header whose variable this environment lacks', async () => {
    const rules = 'test/fixtures/routing-rules-hook-headers.yaml';
    const unset = await npm(['run', '--silent', 'check-config'], { HANDOFF_ROUTING_RULES: rules });
    expect(unset.code).toBe(0);
    expect(unset.stderr).toContain(
      '[handoff] warning: rule "crm" sends the decision hook header authorization from CHECK_CONFIG_HOOK_AUTHORIZATION, which is not set here',
    );
    const set = await npm(['run', '--silent', 'check-config'], {
      HANDOFF_ROUTING_RULES: rules,
      CHECK_CONFIG_HOOK_AUTHORIZATION: 'Bearer x',
    });
    expect(set.code).toBe(0);
    expect(set.stderr).toBe('');
  });
});
