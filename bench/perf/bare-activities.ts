/**
 * The bare transfer's one activity: a "Graph request" that does nothing but, like Graph, posts
 * notifications back afterwards (to the bare webhook, which signals the workflow).
 */
import { Context } from '@temporalio/activity';

export async function bareGraphRequest(
  notifyUrl: string,
  notifications: number,
  answerUrl?: string,
): Promise<void> {
  const workflowId = Context.current().info.workflowExecution?.workflowId;
  if (workflowId === undefined) throw new Error('bareGraphRequest runs only in a workflow');
  const url = `${notifyUrl}/${encodeURIComponent(workflowId)}`;
  // Row 3 times this request, as Handoff's answer request is timed at the simulator.
  if (answerUrl !== undefined) {
    await fetch(`${answerUrl}/${encodeURIComponent(workflowId)}`, { method: 'POST' });
  }
  // After the answer, as Graph does: the request returns first, its notifications follow, one at a time.
  setImmediate(() => {
    void (async () => {
      for (let index = 0; index < notifications; index++) {
        await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(bareNotificationBody(workflowId, index)),
        }).catch(() => undefined);
      }
    })();
  });
}

/** A notification of about the size Graph sends (a call state change), for both sides. */
export function bareNotificationBody(callId: string, index: number): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.commsNotifications',
    value: [
      {
        '@odata.type': '#microsoft.graph.commsNotification',
        changeType: 'updated',
        resourceUrl: `/communications/calls/${callId}`,
        resourceData: {
          '@odata.type': '#microsoft.graph.call',
          state: index === 0 ? 'establishing' : 'established',
        },
      },
    ],
  };
}
