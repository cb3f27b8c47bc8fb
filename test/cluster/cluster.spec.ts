// Handoff on a real Temporal cluster: PostgreSQL (main and visibility stores, postgres12 plugin) and the
// frontend, history, matching and worker services as separate processes, started by the same code as
// `npm run cluster`. A transfer runs end to end through the webhook and a worker, survives a restart
// of every Temporal service, and is found through the search attributes the cluster registered.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, freeClusterPorts, startCluster } from '../../src/cluster/cluster.js';
import { type ClusterInstall, clusterHome, ensureClusterInstall } from '../../src/cluster/install.js';
import { DATABASES } from '../../src/cluster/temporal-server.js';
import {
  buildTestWorkflowBundle,
  startHandoffTestStack,
  type TestWorkflowBundle,
} from '../support/handoff-stack.js';

let install: ClusterInstall;
let cluster: Cluster;
let dataDir: string;
let bundle: TestWorkflowBundle;

beforeAll(async () => {
  install = ensureClusterInstall(clusterHome(), (line) => console.info(`cluster: ${line}`));
  // PostgreSQL runs as an unprivileged user when the tests run as root: its folder must be reachable.
  dataDir = mkdtempSync(join(tmpdir(), 'handoff-cluster-'));
  spawnSync('chmod', ['755', dataDir]);
  [cluster, bundle] = await Promise.all([
    startCluster({ dataDir, ports: await freeClusterPorts(), install }),
    buildTestWorkflowBundle(),
  ]);
});

afterAll(async () => {
  await cluster?.stop();
  bundle?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function psql(database: string, sql: string): string {
  const result = spawnSync(
    join(install.postgresDir, 'bin', 'psql'),
    ['-h', '127.0.0.1', '-p', String(cluster.ports.postgres), '-U', 'temporal', '-d', database, '-tAc', sql],
    { encoding: 'utf8', env: { ...process.env, PGPASSWORD: 'temporal' } },
  );
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}

describe('a production-shaped cluster', () => {
  it('runs PostgreSQL and each Temporal service as its own process', () => {
    expect(cluster.processes().map((process) => process.name)).toEqual([
      'postgres',
      'temporal-history',
      'temporal-matching',
      'temporal-frontend',
      'temporal-worker',
    ]);
    expect(new Set(cluster.processes().map((process) => process.pid)).size).toBe(5);
    // The visibility schema's GIN indexes need the btree_gin extension of the wheel's PostgreSQL.
    expect(psql(DATABASES.visibility, "SELECT count(*) FROM pg_extension WHERE extname = 'btree_gin'")).toBe(
      '1',
    );
  });

  it('runs a transfer end to end, keeps it in PostgreSQL and finds it by its search attributes', async () => {
    const stack = await startHandoffTestStack({
      temporal: { address: cluster.address, namespace: cluster.namespace },
      workflowBundlePath: bundle.path,
    });
    try {
      const { callId, workflowId, handle } = await stack.placeCall();
      const result = await handle.result();
      expect(result.outcome).toBe('completed');
      expect(
        psql(DATABASES.main, `SELECT count(*) FROM current_executions WHERE workflow_id = '${workflowId}'`),
      ).toBe('1');
      const found: string[] = [];
      for await (const execution of stack.client.workflow.list({ query: `HandoffCallIds = '${callId}'` })) {
        found.push(execution.workflowId);
      }
      expect(found).toEqual([workflowId]);
    } finally {
      await stack.stop();
    }
  });

  it('finishes a transfer that was under way while every Temporal service restarted', async () => {
    const stack = await startHandoffTestStack({
      temporal: { address: cluster.address, namespace: cluster.namespace },
      workflowBundlePath: bundle.path,
    });
    try {
      // Graph's notifications for the group call come after the outage: the webhook answers 503 meanwhile,
      // and the simulator retries, as Graph does.
      const { handle } = await stack.placeCall();
      const { downMs } = await cluster.restartTemporal();
      console.info(`cluster: Temporal services down and back in ${downMs} ms`);
      const result = await handle.result();
      expect(result.outcome).toBe('completed');
    } finally {
      await stack.stop();
    }
  });
});
