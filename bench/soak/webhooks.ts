/**
 * More webhook replicas beside the test stack's own, each on its own port and PUBLIC_BASE_URL and
 * sharing its Temporal client, task queue and API token (design.md, "Beyond one machine": any
 * number of webhook replicas).
 *
 * Why the soak wants them: the simulator posts the notifications for one callback origin one at
 * a time (src/simulator/notifier.ts), and each POST waits until Temporal took the signal. Through
 * one webhook, 200 transfers' notifications queue for a minute and more; Graph itself posts
 * concurrently. A transfer's callbackUri names the replica that started it, so spreading the
 * starts over N replicas gives the simulator N delivery lanes.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { webhookDepsFor } from '../../src/app/webhook.js';
import { loadConfig } from '../../src/config/env.js';
import { getFreePort } from '../../src/temporal/ports.js';
import { buildApiServer, buildWebhookServer } from '../../src/webhook/index.js';
import type { HandoffTestStack } from '../../test/support/handoff-stack.js';

export interface WebhookReplica {
  /** http://127.0.0.1:<port>, also its PUBLIC_BASE_URL. */
  url: string;
  /** Its API listener (issue 9.2), where transfers are started. */
  apiUrl: string;
  stop(): Promise<void>;
}

/** Starts `count` more webhooks like the stack's (JWT verification on, the stack's API token). */
export async function startWebhookReplicas(
  stack: HandoffTestStack,
  count: number,
): Promise<WebhookReplica[]> {
  const replicas: WebhookReplica[] = [];
  try {
    for (let index = 0; index < count; index++) {
      const port = await getFreePort();
      const url = `http://127.0.0.1:${port}`;
      const config = loadConfig({
        TEMPORAL_ADDRESS: stack.config.temporal.address,
        TEMPORAL_NAMESPACE: stack.config.temporal.namespace,
        HANDOFF_TASK_QUEUE: stack.taskQueue,
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_BASE_URL: url,
        HANDOFF_API_TOKEN: stack.apiToken,
        HANDOFF_API_PORT: '0',
        SIMULATOR_URL: stack.sim.url,
      });
      // Every replica starts transfers with the same call-ownership policy as the first webhook.
      config.transferPolicy = stack.config.transferPolicy;
      const deps = webhookDepsFor(config, stack.client, { simulator: stack.sim, logger: false });
      const webhook: FastifyInstance = buildWebhookServer(deps);
      await webhook.listen({ host: '127.0.0.1', port });
      const api: FastifyInstance = buildApiServer(deps);
      try {
        await api.listen({ host: '127.0.0.1', port: 0 });
      } catch (error) {
        await webhook.close();
        throw error;
      }
      const apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
      replicas.push({
        url,
        apiUrl,
        stop: async () => void (await Promise.all([webhook.close(), api.close()])),
      });
    }
    return replicas;
  } catch (error) {
    await Promise.all(replicas.map((replica) => replica.stop()));
    throw error;
  }
}
