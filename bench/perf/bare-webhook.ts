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
  /** `${url}/bare/incoming`: POST /<workflowId> signal-with-starts a bareTransfer, like an incoming call. */
  incomingUrl: string;
  /** `${url}/bare/answered`: POST /<workflowId> records when its "answer" arrived. */
  answerUrl: string;
  /** performance.now() of each workflow's answer. */
  answeredAt: Map<string, number>;
  stop(): Promise<void>;
}

export async function startBareWebhook(client: Client, taskQueue: string): Promise<BareWebhook> {
  const app = fastify({ logger: false });
  app.post<{ Params: { workflowId: string }; Body: { value?: unknown } }>(
    '/bare/calls/:workflowId',
    async (request, reply) => {
      await client.workflow.getHandle(request.params.workflowId).signal('graphNotifications', {
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
  const answeredAt = new Map<string, number>();
  app.post<{ Params: { workflowId: string } }>('/bare/answered/:workflowId', async (request, reply) => {
    answeredAt.set(request.params.workflowId, performance.now());
    return reply.code(202).send();
  });
  app.post<{ Params: { workflowId: string }; Body: { value?: unknown } }>(
    '/bare/incoming/:workflowId',
    async (request, reply) => {
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      await client.workflow.signalWithStart('bareTransfer', {
        taskQueue,
        workflowId: request.params.workflowId,
        args: [{ notifyUrl: `${url}/bare/calls`, answerUrl: `${url}/bare/answered` }],
        signal: 'graphNotifications',
        signalArgs: [{ notifications: request.body.value, receivedAt: new Date().toISOString() }],
      });
      return reply.code(202).send();
    },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    url,
    notifyUrl: `${url}/bare/calls`,
    incomingUrl: `${url}/bare/incoming`,
    answerUrl: `${url}/bare/answered`,
    answeredAt,
    stop: () => app.close(),
  };
}
