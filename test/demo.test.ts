// `npm run demo` against a running Handoff: the command runs as its own process (as a user runs it),
// talking over HTTP to a stack this file starts on free ports (simulator, webhook with its API
// token, in-process worker, Temporal dev server). Every scenario must end with its JSON line.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort } from '../src/temporal/ports.js';
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
  'redirect',
  'reject',
  'blind-transfer',
  'consultative-transfer',
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
function runDemo(
  args: string[],
  env: Record<string, string> = {},
  onStderr: (text: string) => void = () => undefined,
): Promise<DemoRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin/demo.ts', ...args], {
    cwd: projectRoot(),
    env: {
      PATH: process.env.PATH,
      HANDOFF_URL: stack.webhookUrl,
      HANDOFF_API_URL: stack.apiUrl,
      SIMULATOR_URL: stack.sim.url,
      HANDOFF_API_TOKEN: stack.apiToken,
      DEMO_TIMEOUT_MS: '45000',
      ...env,
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
    onStderr(stderr);
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
    expect(byName.get('redirect')).toMatchObject({
      outcome: 'redirected',
      workflowId: expect.stringMatching(/^incoming-/),
    });
    expect(byName.get('reject')).toMatchObject({
      outcome: 'rejected',
      workflowId: expect.stringMatching(/^incoming-/),
    });
    expect(byName.get('blind-transfer')).toMatchObject({
      outcome: 'transferred',
      workflowId: expect.stringMatching(/^native-transfer-/),
    });
    expect(byName.get('consultative-transfer')).toMatchObject({
      outcome: 'transferred',
      consultationCallId: expect.any(String),
    });
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

  it('names the URL it tried and says to run npm start when nothing answers', async () => {
    const port = await getFreePort();
    const started = Date.now();
    const run = await runDemo([], { HANDOFF_URL: `http://127.0.0.1:${port}`, DEMO_WAIT_MS: '1500' });

    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain(`http://127.0.0.1:${port}/readyz`);
    expect(run.stderr).toContain('ECONNREFUSED');
    expect(run.stderr).toContain('`npm start`');
    // It waited (bounded) before giving up, and played nothing.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(run.results).toEqual([]);
  });

  it('waits for a stack that is still starting, then places a call for the user to transfer', async () => {
    // Handoff "starts" only once the demo has found it missing and said it waits.
    const port = await getFreePort();
    const late = createServer((_request, response) => response.writeHead(200).end('{"status":"ready"}'));
    let starting = false;
    const startLate = (stderr: string) => {
      if (starting || !stderr.includes('waiting up to')) return;
      starting = true;
      void sleep(1_000).then(() => late.listen(port, '127.0.0.1'));
    };
    try {
      const ringing = await runDemo(['place-call'], { HANDOFF_URL: `http://127.0.0.1:${port}` }, startLate);
      expect(ringing.code, ringing.stdout + ringing.stderr).toBe(0);
      expect(ringing.stderr).toContain(`waiting up to 30 s for Handoff at http://127.0.0.1:${port}/readyz`);
      // Only the call id on stdout: CALL_ID=$(npm run --silent demo -- place-call).
      const callId = ringing.stdout.trim();
      expect(callId).toMatch(/^[\w-]+$/);
      expect(stack.sim.getCall(callId)?.state).toBe('incoming');
    } finally {
      late.close();
    }

    const answered = await runDemo(['place-call', '--answered']);
    expect(answered.code, answered.stdout + answered.stderr).toBe(0);
    expect(stack.sim.getCall(answered.stdout.trim())?.state).toBe('established');

    const wrong = await runDemo(['place-call', '--ringing']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('place-call takes only --answered, got --ringing');
  });

  it('refuses a DEMO_WAIT_MS that is not a number, naming it', async () => {
    const run = await runDemo([], { DEMO_WAIT_MS: 'soon' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('DEMO_WAIT_MS must be a number of milliseconds, got soon');
  });
});
