// Starting botCall workflows in tests, as the HTTP API and other services do: with the Temporal
// client, on the stack's task queue, with a callback URL signed for the stack's webhook.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { botCall } from '../../src/workflows/bot-call/bot-call.js';
import {
  BOT_CALL_WORKFLOW_TYPE,
  botCallStateQuery,
  botCallWorkflowId,
} from '../../src/workflows/bot-call/definitions.js';
import type { BotCallInput, CallRequest } from '../../src/workflows/bot-call/types.js';
import { type HandoffTestStack, waitUntil } from './handoff-stack.js';
import { stackCallbackUri } from './webhook-fixtures.js';

export type BotCallHandle = WorkflowHandle<typeof botCall>;

export async function startBotCall(
  stack: HandoffTestStack,
  request: CallRequest,
  extra: Partial<BotCallInput> = {},
): Promise<BotCallHandle> {
  const workflowId = botCallWorkflowId(randomUUID());
  return stack.client.workflow.start<typeof botCall>(BOT_CALL_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: stack.taskQueue,
    args: [
      {
        request,
        callbackUri: stackCallbackUri(stack, workflowId),
        botAppId: stack.sim.botAppId,
        tenantId: stack.sim.tenantId,
        ...extra,
      },
    ],
  });
}

/** Starts a botCall and waits until it holds an established call. */
export async function heldBotCall(
  stack: HandoffTestStack,
  request: CallRequest,
  extra: Partial<BotCallInput> = {},
): Promise<{ handle: BotCallHandle; callId: string }> {
  const handle = await startBotCall(stack, request, extra);
  const state = await waitUntil(`${handle.workflowId} established`, async () => {
    const snapshot = await handle.query(botCallStateQuery);
    return snapshot.phase === 'established' ? snapshot : undefined;
  });
  return { handle, callId: state.callId as string };
}
