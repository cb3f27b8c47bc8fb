/**
 * A production-shaped Temporal cluster on this machine, offline: PostgreSQL plus the four Temporal
 * services as separate processes, the namespace and Handoff's search attributes registered. Handoff
 * connects to it like to any cluster (`TEMPORAL_ADDRESS`). `npm run cluster` starts one that outlives
 * the command; tests start their own on free ports in a temp folder.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type ClusterInstall, clusterHome, ensureClusterInstall } from './install.js';
import { startPostgres } from './postgres.js';
import { isAlive, type ManagedProcess, stopPid } from './processes.js';
import {
  registerNamespace,
  setUpSchemas,
  startTemporalServices,
  TEMPORAL_SERVICES,
  type TemporalPorts,
  type TemporalServerOptions,
} from './temporal-server.js';

export interface ClusterPorts {
  postgres: number;
  temporal: TemporalPorts;
}

export interface ClusterOptions {
  /** Data, logs and state; default `<clusterHome>/data`. */
  dataDir?: string;
  ports?: ClusterPorts;
  namespace?: string;
  /** Processes outlive this one (`npm run cluster`); default false (they die with it). */
  detached?: boolean;
  log?: (line: string) => void;
  install?: ClusterInstall;
}

export interface Cluster {
  /** The frontend, `127.0.0.1:<port>`: TEMPORAL_ADDRESS for Handoff. */
  address: string;
  namespace: string;
  ports: ClusterPorts;
  dataDir: string;
  processes(): ManagedProcess[];
  /** Stops the four Temporal services and starts them again on the same database (an outage). */
  restartTemporal(): Promise<{ downMs: number }>;
  /** Stops everything (Temporal first, then PostgreSQL); the data stays. */
  stop(): Promise<void>;
}

/** Fixed ports for `npm run cluster` (a base of `HANDOFF_CLUSTER_PORT`, default 7333). */
export function portsFromBase(base: number, postgres: number): ClusterPorts {
  return {
    postgres,
    temporal: {
      grpc: { frontend: base, history: base + 1, matching: base + 2, worker: base + 3 },
      membership: { frontend: base + 10, history: base + 11, matching: base + 12, worker: base + 13 },
      frontendHttp: base + 20,
    },
  };
}

/**
 * Free ports for a test's cluster. Temporal stores each service's membership port in a PostgreSQL
 * `smallint` column, so ports must stay below 32768: the OS's ephemeral ports are above that.
 */
export async function freeClusterPorts(): Promise<ClusterPorts> {
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (;;) {
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      if (!taken.has(port) && (await isPortFree(port))) {
        taken.add(port);
        return port;
      }
    }
  };
  const grpc = {
    frontend: await next(),
    history: await next(),
    matching: await next(),
    worker: await next(),
  };
  const membership = {
    frontend: await next(),
    history: await next(),
    matching: await next(),
    worker: await next(),
  };
  return { postgres: await next(), temporal: { grpc, membership, frontendHttp: await next() } };
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolveFree(true)));
  });
}

const DATABASE = { user: 'temporal', password: 'temporal' };

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const log = options.log ?? (() => {});
  const install = options.install ?? ensureClusterInstall(clusterHome(), log);
  const dataDir = options.dataDir ?? join(clusterHome(), 'data');
  const ports = options.ports ?? portsFromBase(7333, 55432);
  const namespace = options.namespace ?? 'default';
  const logDir = join(dataDir, 'logs');
  const stateDir = join(dataDir, 'temporal');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });

  log(`PostgreSQL on 127.0.0.1:${ports.postgres}`);
  const postgres = await startPostgres({
    installDir: install.postgresDir,
    dataDir: join(dataDir, 'postgres'),
    port: ports.postgres,
    ...DATABASE,
    logFile: join(logDir, 'postgres.log'),
    ...(options.detached ? { detached: true } : {}),
  });
  const serverOptions: TemporalServerOptions = {
    binary: install.server,
    sqlTool: install.sqlTool,
    schemaDir: install.schemaDir,
    stateDir,
    logDir,
    ports: ports.temporal,
    database: { port: ports.postgres, ...DATABASE },
    namespace,
    ...(options.detached ? { detached: true } : {}),
  };
  let services: ManagedProcess[] = [];
  const address = `127.0.0.1:${ports.temporal.grpc.frontend}`;
  try {
    setUpSchemas(serverOptions);
    log(`Temporal services (${TEMPORAL_SERVICES.join(', ')}), frontend on ${address}`);
    services = await startTemporalServices(serverOptions);
    await registerNamespace(address, namespace, 120_000, services);
  } catch (error) {
    await Promise.all(services.map((service) => service.stop()));
    await postgres.stop();
    throw error;
  }

  return {
    address,
    namespace,
    ports,
    dataDir,
    processes: () => [postgres, ...services],
    async restartTemporal() {
      const stoppedAt = Date.now();
      await Promise.all(services.map((service) => service.stop()));
      services = await startTemporalServices(serverOptions);
      await registerNamespace(address, namespace, 120_000, services);
      return { downMs: Date.now() - stoppedAt };
    },
    async stop() {
      await Promise.all(services.map((service) => service.stop()));
      await postgres.stop();
    },
  };
}

/** What `npm run cluster` leaves behind so that `down` and `status` find the detached processes. */
export interface ClusterState {
  address: string;
  namespace: string;
  ports: ClusterPorts;
  dataDir: string;
  processes: Array<{ name: string; pid: number; logFile: string }>;
  startedAt: string;
}

function statePath(home: string): string {
  return join(home, 'cluster.json');
}

export function writeClusterState(home: string, cluster: Cluster): ClusterState {
  const state: ClusterState = {
    address: cluster.address,
    namespace: cluster.namespace,
    ports: cluster.ports,
    dataDir: cluster.dataDir,
    processes: cluster.processes().map(({ name, pid, logFile }) => ({ name, pid, logFile })),
    startedAt: new Date().toISOString(),
  };
  writeFileSync(statePath(home), `${JSON.stringify(state, null, 2)}\n`);
  return state;
}

export function readClusterState(home: string): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(home), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

export function runningProcesses(state: ClusterState): ClusterState['processes'] {
  return state.processes.filter((process) => isAlive(process.pid));
}

/** Stops a detached cluster: Temporal's services first, PostgreSQL last (it holds their state). */
export async function stopDetachedCluster(home: string): Promise<ClusterState | undefined> {
  const state = readClusterState(home);
  if (!state) return undefined;
  const temporal = state.processes.filter((process) => process.name !== 'postgres');
  await Promise.all(temporal.map((process) => stopPid(process.pid)));
  for (const process of state.processes.filter((candidate) => candidate.name === 'postgres')) {
    await stopPid(process.pid, 30_000);
  }
  rmSync(statePath(home), { force: true });
  return state;
}
