/**
 * The cluster soak's deployment (issue 13.2): a production-shaped Temporal cluster (src/cluster),
 * started by the soak on free ports in a temp folder or given by address, and N webhook processes
 * (src/bin/webhook.ts, as docker-compose runs them) behind the round-robin proxy that stands for the
 * load balancer Graph calls back. Every webhook has the proxy's URL as its PUBLIC_BASE_URL, so a
 * transfer's callbacks reach whichever webhook is next, and the soak can kill one under load.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeClusterPorts, startCluster } from '../../src/cluster/cluster.js';
import { clusterHome, ensureClusterInstall } from '../../src/cluster/install.js';
import { startWebhookProcess, type WebhookProcess } from '../../test/support/webhook-process.js';
import { type RoundRobinProxy, startRoundRobinProxy } from './proxy.js';

export interface SoakCluster {
  address: string;
  namespace: string;
  /** Set when the soak started the cluster: stops and starts every Temporal service. */
  restartTemporal?: () => Promise<{ downMs: number }>;
  /** PostgreSQL and the Temporal services, for the usage monitor (after a restart: the new ones). */
  processes(): Array<{ name: string; pid: number }>;
  /** Where its data and logs are (a temp folder, deleted on stop), or undefined for a given one. */
  dataDir?: string;
  stop(): Promise<void>;
}

/** Starts a cluster of its own (its own data folder and free ports), or uses the one at `address`. */
export async function soakCluster(
  address: string | undefined,
  log: (line: string) => void,
): Promise<SoakCluster> {
  if (address !== undefined) {
    return { address, namespace: 'default', processes: () => [], stop: async () => {} };
  }
  const install = ensureClusterInstall(clusterHome(), log);
  // PostgreSQL runs as an unprivileged user when the soak runs as root: its folder must be reachable.
  const dataDir = mkdtempSync(join(tmpdir(), 'handoff-soak-cluster-'));
  spawnSync('chmod', ['755', dataDir]);
  try {
    const cluster = await startCluster({ dataDir, ports: await freeClusterPorts(), install, log });
    return {
      address: cluster.address,
      namespace: cluster.namespace,
      restartTemporal: () => cluster.restartTemporal(),
      processes: () => cluster.processes().map(({ name, pid }) => ({ name, pid })),
      dataDir,
      stop: async () => {
        await cluster.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export interface WebhookPoolOptions {
  count: number;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  simulatorUrl: string;
  apiToken: string;
  /** Settings every webhook gets (the transfer policy: keep-alive interval, bot leg, …). */
  env: Record<string, string>;
}

export interface WebhookPool {
  proxy: RoundRobinProxy;
  /** The API listener of webhook `index % count` (it moves when that webhook is restarted). */
  apiUrl(index: number): string;
  /** The processes now running, in slot order. */
  current(): readonly WebhookProcess[];
  /** Every webhook process ever started, killed ones too (their output is kept). */
  all(): readonly WebhookProcess[];
  /** SIGKILLs the webhook in `slot` and starts a new one in its place; resolves once it listens. */
  killAndReplace(slot: number): Promise<{ killed: WebhookProcess; next: WebhookProcess }>;
  stop(): Promise<void>;
}

export async function startWebhookPool(options: WebhookPoolOptions): Promise<WebhookPool> {
  const proxy = await startRoundRobinProxy();
  const all: WebhookProcess[] = [];
  const slots: Array<{ process: WebhookProcess; webhookUrl: string; apiUrl: string }> = [];
  const start = async (name: string) => {
    const process = startWebhookProcess({
      name,
      temporalAddress: options.temporalAddress,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      simulatorUrl: options.simulatorUrl,
      readyTimeoutMs: 120_000,
      env: { ...options.env, PUBLIC_BASE_URL: proxy.url, HANDOFF_API_TOKEN: options.apiToken },
    });
    all.push(process);
    const urls = await process.ready;
    return { process, ...urls };
  };
  const route = () => proxy.setBackends(slots.map((slot) => slot.webhookUrl));
  try {
    for (let index = 0; index < options.count; index++) slots.push(await start(`webhook-${index + 1}`));
  } catch (error) {
    await Promise.all(all.map((process) => process.kill()));
    await proxy.close();
    throw error;
  }
  route();
  return {
    proxy,
    apiUrl: (index) => (slots[index % slots.length] as (typeof slots)[number]).apiUrl,
    current: () => slots.map((slot) => slot.process),
    all: () => all,
    async killAndReplace(slot) {
      const old = slots[slot % slots.length] as (typeof slots)[number];
      // The balancer keeps the dead address until the new webhook listens, as one whose health
      // check has not noticed yet: its connections are refused and handed to the next webhook.
      await old.process.kill();
      const replacement = await start(`webhook-${all.length + 1}`);
      slots[slot % slots.length] = replacement;
      route();
      return { killed: old.process, next: replacement.process };
    },
    async stop() {
      await Promise.all(all.map((process) => process.kill()));
      await proxy.close();
    },
  };
}
