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
import type { FastifyInstance } from 'fastify';
import { webhookDepsFor } from '../../src/app/webhook.js';
import { loadConfig } from '../../src/config/env.js';
import { getFreePort } from '../../src/temporal/ports.js';
import { buildWebhookServer } from '../../src/webhook/index.js';
import type { HandoffTestStack } from '../../test/support/handoff-stack.js';

export interface WebhookReplica {
  /** http://127.0.0.1:<port>, also its PUBLIC_BASE_URL. */
  url: string;
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
        SIMULATOR_URL: stack.sim.url,
      });
      // Every replica starts transfers with the same call-ownership policy as the first webhook.
      config.transferPolicy = stack.config.transferPolicy;
      const webhook: FastifyInstance = buildWebhookServer(
        webhookDepsFor(config, stack.client, { simulator: stack.sim, logger: false }),
      );
      await webhook.listen({ host: '127.0.0.1', port });
      replicas.push({ url, stop: () => webhook.close() });
    }
    return replicas;
  } catch (error) {
    await Promise.all(replicas.map((replica) => replica.stop()));
    throw error;
  }
}
