// Workflows on a worker that keeps no workflow in its cache (HANDOFF_WORKER_STICKY_CACHE_SIZE=0):
// every workflow task replays the history from the start, as after any worker restart or cache
// eviction. What a workflow drew at random before must come out the same on that replay.
//
// The case that failed: botCall draws an operation's clientContext with uuid4() right after the
// update's validator ran. The validator runs only when the update first arrives, never on replay,
// and the tracing interceptors used to draw its span id from the workflow's random stream. The
// replayed workflow then drew another clientContext than the one it had sent to Graph, and waited
// forever for a report with that one (src/workflows/tracing/tracing-interceptors.ts).
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { botCall } from '../src/workflows/bot-call/bot-call.js';
import {
  BOT_CALL_WORKFLOW_TYPE,
  botCallStateQuery,
  botCallWorkflowId,
  hangUpSignal,
  inviteParticipantsUpdate,
} from '../src/workflows/bot-call/definitions.js';
import { sharedHandoffStack, waitUntil } from './support/handoff-stack.js';
import { stackCallbackUri } from './support/webhook-fixtures.js';

const stack = sharedHandoffStack({ env: { HANDOFF_WORKER_STICKY_CACHE_SIZE: '0' } });

const alice = { user: { id: '7e1b4346-85a6-4bdd-abe3-d11c5d420efe', displayName: 'Alice' } };

async function heldGroupCall(): Promise<WorkflowHandle<typeof botCall>> {
  const workflowId = botCallWorkflowId(randomUUID());
  const handle = await stack.client.workflow.start<typeof botCall>(BOT_CALL_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: stack.taskQueue,
    args: [
      {
        request: {
          kind: 'groupCall',
          targets: [
            { user: { id: '98da8a1a-1b87-452c-a713-65d3f10b5555', displayName: 'user1' } },
            { user: { id: 'bf5aae9a-d11d-47a8-93b1-782504c95555', displayName: 'user2' } },
          ],
          media: { kind: 'none' },
        },
        callbackUri: stackCallbackUri(stack, workflowId),
        botAppId: stack.sim.botAppId,
        tenantId: stack.sim.tenantId,
      },
    ],
  });
  await waitUntil(`${workflowId} established`, async () => {
    const state = await handle.query(botCallStateQuery);
    return state.phase === 'established' ? state : undefined;
  });
  return handle;
}

describe('a worker that replays the history on every workflow task', () => {
  it("matches Graph's report of an invite to the clientContext it drew, after the validator ran", async () => {
    const handle = await heldGroupCall();
    // Queried too: a query is not replayed either, and must not move what the workflow draws later.
    await handle.query(botCallStateQuery);

    const outcome = await handle.executeUpdate(inviteParticipantsUpdate, {
      args: [{ participants: [{ identity: alice }] }],
    });

    const invite = stack.sim.requests.find(
      (request) => request.method === 'POST' && request.path.endsWith('/participants/invite'),
    );
    const sent = (invite?.body as { clientContext?: string } | undefined)?.clientContext;
    expect(sent).toBeDefined();
    expect(outcome).toMatchObject({ kind: 'invite', clientContext: sent, status: 'completed' });

    await handle.signal(hangUpSignal);
    expect((await handle.result()).outcome).toBe('ended');
  });

  it('completes a seed transfer', async () => {
    const { handle } = await stack.placeCall();
    expect(await handle.result()).toMatchObject({ outcome: 'completed' });
  });
});
