// `npm run demo` against a running Handoff: the command runs as its own process (as a user runs it),
// talking over HTTP to a stack this file starts on free ports (simulator, webhook with its API
// token, in-process worker, Temporal dev server). Every scenario must end with its JSON line.
import { spawn } from 'node:child_process';
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

const SCENARIOS = [
  'p2p-transfer',
  'answered-elsewhere',
  'invite',
  'transfer-existing',
  'move',
  'p2p-outgoing',
  'p2p-app-hosted',
  'group-call',
  'join-meeting',
  'join-meeting-id',
  'channel-meeting',
  'guest-lobby',
  'pstn-call',
];

let temporal: TestTemporal;
let bundle: TestWorkflowBundle;
let stack: HandoffTestStack;

beforeAll(async () => {
  [temporal, bundle] = await Promise.all([startTestTemporal(), buildTestWorkflowBundle()]);
  stack = await startHandoffTestStack({ temporal, workflowBundlePath: bundle.path });
});

afterAll(async () => {
  await stack?.stop();
  await temporal?.stop();
  bundle?.remove();
});

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON result lines, one per scenario. */
  results: Array<Record<string, unknown>>;
}

/** `node --import tsx src/bin/demo.ts …args`, as `npm run demo -- …args` runs it. */
function runDemo(args: string[]): Promise<DemoRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin/demo.ts', ...args], {
    cwd: projectRoot(),
    env: {
      PATH: process.env.PATH,
      HANDOFF_URL: stack.webhookUrl,
      SIMULATOR_URL: stack.sim.url,
      HANDOFF_API_TOKEN: stack.apiToken,
      DEMO_TIMEOUT_MS: '45000',
    },
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
    child.once('close', (code) => {
      const results = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ code, stdout, stderr, results });
    });
  });
}

describe('npm run demo', () => {
  it('plays every scenario to completion, one JSON line each, and exits 0', async () => {
    // Concurrently, in one process: a process per scenario would spend most of the time starting tsx.
    const [all, byDefault] = await Promise.all([runDemo(['--all']), runDemo([])]);

    expect(all.code, all.stdout + all.stderr).toBe(0);
    expect(all.results.map((result) => result.scenario).sort()).toEqual([...SCENARIOS].sort());
    for (const result of all.results) {
      expect(result, JSON.stringify(result)).toMatchObject({
        status: 'completed',
        workflowId: expect.any(String),
      });
    }
    const byName = new Map(all.results.map((result) => [result.scenario, result]));
    expect(byName.get('invite')).toMatchObject({ operationId: expect.any(String), joined: 3 });
    expect(byName.get('transfer-existing')).toMatchObject({ operationId: expect.any(String) });
    expect(byName.get('move')).toMatchObject({
      participantId: expect.any(String),
      sourceCallId: expect.any(String),
    });
    expect(byName.get('p2p-app-hosted')).toMatchObject({ blobUntouched: true });
    expect(byName.get('guest-lobby')).toMatchObject({ admittedFromLobby: true });
    expect(byName.get('answered-elsewhere')).toMatchObject({
      groupCallId: expect.any(String),
      notificationsToOtherSystem: expect.any(Number),
    });
    // Bot calls are hung up at the end: the simulator holds no call a scenario created.
    for (const result of all.results.filter((entry) => String(entry.workflowId).startsWith('call-'))) {
      const call = stack.sim.getCall(String(result.callId));
      expect(call?.state, `${result.scenario}: call ${result.callId}`).toBe('terminated');
    }

    // No scenario named: the seed's P2P transfer, printed as the demo always did.
    expect(byDefault.code, byDefault.stdout + byDefault.stderr).toBe(0);
    expect(byDefault.results).toEqual([
      expect.objectContaining({
        status: 'completed',
        scenario: 'p2p-transfer',
        workflowId: expect.stringMatching(/^transfer-/),
        groupCallId: expect.any(String),
        operationId: expect.any(String),
      }),
    ]);
  }, 120_000);

  it('reports a scenario that fails with status failed and exit code 1', async () => {
    // Graph refuses to let the bot join meeting 1234567 (once): the bot call fails.
    stack.sim.injectFault({
      method: 'POST',
      bodyContains: '1234567',
      status: 403,
      code: 'Forbidden',
      times: 1,
    });

    const run = await runDemo(['join-meeting-id']);

    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.results).toEqual([
      expect.objectContaining({ status: 'failed', scenario: 'join-meeting-id', reason: expect.any(String) }),
    ]);
  });

  it('lists the scenarios, and refuses an unknown one with exit code 2 and the list', async () => {
    const [list, unknown] = await Promise.all([runDemo(['--list']), runDemo(['no-such-flow'])]);

    expect(list.code).toBe(0);
    for (const name of SCENARIOS) expect(list.stdout).toContain(name);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown scenario no-such-flow');
    for (const name of SCENARIOS) expect(unknown.stderr).toContain(name);
    expect(unknown.results).toEqual([]);
  });
});
