// The cluster soak (issue 13.2) in short: `npm run soak -- --cluster` with 30 transfers, one worker
// and one webhook SIGKILLed under load, run as a user runs it (a child process that starts its own
// cluster, webhook and worker processes and the proxy). It must pass its own audit: every transfer
// completed, nothing duplicated or orphaned, and every 202 the webhooks gave reached its workflow.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SoakSummary } from '../../bench/soak/report.js';
import { clusterHome, ensureClusterInstall } from '../../src/cluster/install.js';
import { projectRoot } from '../../src/temporal/project-root.js';

let reportDir: string;

beforeAll(() => {
  // Builds the server the first time, as cluster.spec.ts does; the soak then finds it.
  ensureClusterInstall(clusterHome(), (line) => console.info(`cluster: ${line}`));
  reportDir = mkdtempSync(join(tmpdir(), 'handoff-cluster-soak-report-'));
});

afterAll(() => {
  if (reportDir) rmSync(reportDir, { recursive: true, force: true });
});

function runSoak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/soak.ts', ...args], {
      cwd: projectRoot(),
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

it('passes its audit with a worker and a webhook killed mid-run', async () => {
  const { code, stdout, stderr } = await runSoak([
    '--cluster',
    '--transfers',
    '30',
    '--kills',
    '1',
    '--webhook-kills',
    '1',
    '--temporal-restarts',
    '0',
    // Calls keep coming for 15 s: both kills land while transfers run.
    '--spread',
    '15',
    '--seed',
    '13',
    '--timeout',
    '240',
    '--report-dir',
    reportDir,
  ]);
  expect(code, `${stdout}\n${stderr.split('\n').slice(-40).join('\n')}`).toBe(0);
  expect(stdout).toContain('RESULT: PASS');

  const runDir = /report\.json: (\S+)/.exec(stdout)?.[1] as string;
  const { summary } = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as {
    summary: SoakSummary;
  };
  expect(summary.completed).toBe(30);
  expect(summary.killsSkipped).toBe(0);
  const cluster = summary.cluster;
  expect(cluster?.disruptions.map((disruption) => disruption.kind).sort()).toEqual(['webhook', 'worker']);
  expect(cluster?.lostNotifications).toEqual([]);
  // Every notification went through the proxy to the webhook processes, and was signalled.
  expect(cluster?.acknowledgedSignals).toBeGreaterThanOrEqual(30 * 5);
  expect(cluster?.signalsInHistories).toBeGreaterThanOrEqual(cluster?.acknowledgedSignals ?? 0);
  expect(cluster?.outages).toHaveLength(2);

  // The picture and the text, where the output says.
  const html = /report: (\S+\.html)/.exec(stdout)?.[1] as string;
  expect(html.startsWith(reportDir)).toBe(true);
  expect(existsSync(html)).toBe(true);
  const page = readFileSync(html, 'utf8');
  expect(page.match(/<circle class="transfer"/g)).toHaveLength(30);
  expect(page.match(/<line class="mark"/g)).toHaveLength(2);
  rmSync(runDir, { recursive: true, force: true });
}, 600_000);
