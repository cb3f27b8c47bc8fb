/**
 * The bare side's webhook: a fastify route that turns a POST into a signal and answers 202 once
 * Temporal took it, and one that starts a workflow. No token, no schema, no routing: what is left
 * of Handoff's webhook when its logic is taken out.
 */
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import fastify from 'fastify';

export interface BareWebhook {
  url: string;
  /** `${url}/bare/calls`: POST /<workflowId> signals it. */
  notifyUrl: string;
  stop(): Promise<void>;
}

export async function startBareWebhook(client: Client, taskQueue: string): Promise<BareWebhook> {
  const app = fastify({ logger: false });
  app.post<{ Params: { workflowId: string }; Body: { value?: unknown } }>(
    '/bare/calls/:workflowId',
    async (request, reply) => {
      await client.workflow
        .getHandle(request.params.workflowId)
        .signal('graphNotifications', {
          notifications: request.body.value,
          receivedAt: new Date().toISOString(),
        });
      return reply.code(202).send();
    },
  );
  app.post<{ Params: { workflowId: string }; Body: unknown }>(
    '/bare/transfers/:workflowId',
    async (request, reply) => {
      await client.workflow.start('bareTransfer', {
        taskQueue,
        workflowId: request.params.workflowId,
        args: [request.body],
      });
      return reply.code(201).send();
    },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { url, notifyUrl: `${url}/bare/calls`, stop: () => app.close() };
}
