import { describe, expect, it } from 'vitest';
import {
  botCallStateQuery,
  hangUpSignal,
  inviteParticipantsUpdate,
} from '../src/workflows/bot-call/definitions.js';
import { type BotCallHandle, heldBotCall } from './support/bot-calls.js';
import { sharedHandoffStack } from './support/handoff-stack.js';

const stack = sharedHandoffStack({ env: { HANDOFF_WORKER_STICKY_CACHE_SIZE: '0' } });

const alice = { user: { id: '7e1b4346-85a6-4bdd-abe3-d11c5d420efe', displayName: 'Alice' } };

async function heldGroupCall(): Promise<BotCallHandle> {
  const { handle } = await heldBotCall(stack, {
    kind: 'groupCall',
    targets: [
      { user: { id: '98da8a1a-1b87-452c-a713-65d3f10b5555', displayName: 'user1' } },
      { user: { id: 'bf5aae9a-d11d-47a8-93b1-782504c95555', displayName: 'user2' } },
    ],
    media: { kind: 'none' },
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
