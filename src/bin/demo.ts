/**
 * `npm run demo`: places the seed's incoming call (seed 001, step 1) through the simulator of a
 * running `npm start`, follows the transfer step by step through the HTTP API, and ends with
 * one JSON line. Exit code 0 only when the transfer completed.
 */
import { setTimeout as sleep } from 'node:timers/promises';

const handoffUrl = (process.env.HANDOFF_URL ?? 'http://127.0.0.1:3978').replace(/\/+$/, '');
const simulatorUrl = (process.env.SIMULATOR_URL ?? 'http://127.0.0.1:4010').replace(/\/+$/, '');
const timeoutMs = Number(process.env.DEMO_TIMEOUT_MS ?? 120_000);

interface TransferView {
  workflowId: string;
  status: string;
  phase?: string;
  uiUrl?: string;
  snapshot?: {
    phase: string;
    calls: Array<{ callId: string; state?: string }>;
    notificationsSeen: number;
    result: { groupCallId?: string; inviteOperationId?: string; reason?: string };
  };
  result?: { outcome: string; groupCallId?: string; inviteOperationId?: string; reason?: string };
  failure?: { message: string };
}

async function postJson(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

async function getTransfer(workflowId: string): Promise<TransferView | undefined> {
  const response = await fetch(`${handoffUrl}/api/transfers/${encodeURIComponent(workflowId)}`);
  if (response.status === 404) return undefined;
  if (!response.ok)
    throw new Error(`GET transfer ${workflowId} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as TransferView;
}

function describeStep(view: TransferView): string {
  const calls = (view.snapshot?.calls ?? []).map((call) => `${call.callId}=${call.state ?? '?'}`).join(', ');
  return `${view.snapshot?.phase ?? view.phase ?? view.status} | calls: ${calls || 'none yet'} | notifications: ${view.snapshot?.notificationsSeen ?? 0}`;
}

async function main(): Promise<number> {
  console.log(
    `placing the seed's incoming P2P call to ${handoffUrl}/api/calls through the simulator at ${simulatorUrl}`,
  );
  const { callId } = (await postJson(`${simulatorUrl}/_simulator/incoming-calls`, {
    botUrl: `${handoffUrl}/api/calls`,
  })) as { callId: string };
  const workflowId = `transfer-${callId}`;
  console.log(`incoming call ${callId}: following workflow ${workflowId}`);

  const deadline = Date.now() + timeoutMs;
  let lastStep = '';
  let view: TransferView | undefined;
  while (Date.now() < deadline) {
    view = await getTransfer(workflowId);
    // A closed workflow answers no query: its last step was already printed from the snapshot.
    if (view?.snapshot) {
      const step = describeStep(view);
      if (step !== lastStep) console.log(`  ${step}`);
      lastStep = step;
    }
    if (view && view.status !== 'RUNNING') break;
    await sleep(100);
  }
  const result = view?.result ?? view?.snapshot?.result;
  const status =
    view === undefined ? 'not_started' : view.status === 'RUNNING' ? 'timed_out' : view.status.toLowerCase();
  if (view?.failure) console.log(`transfer failed: ${view.failure.message}`);
  console.log(
    JSON.stringify({
      status,
      workflowId,
      p2pCallId: callId,
      groupCallId: result?.groupCallId ?? null,
      operationId: result?.inviteOperationId ?? null,
      uiUrl: view?.uiUrl ?? null,
    }),
  );
  return status === 'completed' ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    console.error('is Handoff running? start it with `npm start` in another terminal');
    process.exit(1);
  },
);
