/**
 * `npm run cluster [-- up|down|status|reset]`: a production-shaped Temporal cluster on this machine
 * (PostgreSQL + frontend, history, matching and worker services), offline. `up` builds what is missing
 * (the first time: the Temporal server from the Go module proxy, 10-15 minutes), starts the processes
 * detached and prints the TEMPORAL_ADDRESS to give Handoff; `down` stops them, keeping the data;
 * `reset` stops them and deletes the data.
 */
import { rmSync } from 'node:fs';
import {
  portsFromBase,
  readClusterState,
  runningProcesses,
  startCluster,
  stopDetachedCluster,
  writeClusterState,
} from '../cluster/cluster.js';
import { clusterHome } from '../cluster/install.js';

const USAGE = 'usage: npm run cluster [-- up|down|status|reset]';

function portSetting(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_000) {
    throw new Error(`${name} must be a TCP port, got "${value}"`);
  }
  return port;
}

async function up(home: string): Promise<void> {
  const existing = readClusterState(home);
  if (existing && runningProcesses(existing).length > 0) {
    console.log(`cluster already running: TEMPORAL_ADDRESS=${existing.address} (npm run cluster -- status)`);
    return;
  }
  const startedAt = Date.now();
  const cluster = await startCluster({
    detached: true,
    ports: portsFromBase(
      portSetting('HANDOFF_CLUSTER_PORT', 7333),
      portSetting('HANDOFF_CLUSTER_PG_PORT', 55432),
    ),
    log: (line) => console.log(`cluster: ${line}`),
  });
  writeClusterState(home, cluster);
  console.log(
    `cluster: ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; logs in ${cluster.dataDir}/logs`,
  );
  console.log(`TEMPORAL_ADDRESS=${cluster.address} TEMPORAL_NAMESPACE=${cluster.namespace}`);
}

async function status(home: string): Promise<number> {
  const state = readClusterState(home);
  if (!state) {
    console.log('cluster: not started (npm run cluster)');
    return 1;
  }
  const running = new Set(runningProcesses(state).map((process) => process.pid));
  for (const process of state.processes) {
    console.log(
      `${process.name.padEnd(18)} pid ${String(process.pid).padEnd(8)} ${running.has(process.pid) ? 'running' : 'NOT RUNNING'}`,
    );
  }
  console.log(`TEMPORAL_ADDRESS=${state.address} TEMPORAL_NAMESPACE=${state.namespace}`);
  return running.size === state.processes.length ? 0 : 1;
}

async function main(): Promise<number> {
  const home = clusterHome();
  const command = process.argv[2] ?? 'up';
  switch (command) {
    case 'up':
      await up(home);
      return 0;
    case 'down': {
      const stopped = await stopDetachedCluster(home);
      console.log(
        stopped ? `cluster: stopped (data kept in ${stopped.dataDir})` : 'cluster: was not running',
      );
      return 0;
    }
    case 'status':
      return status(home);
    case 'reset': {
      const stopped = await stopDetachedCluster(home);
      const dataDir = stopped?.dataDir ?? `${home}/data`;
      rmSync(dataDir, { recursive: true, force: true });
      console.log(`cluster: stopped and deleted ${dataDir}`);
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`cluster: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
