/**
 * A real Temporal server on PostgreSQL: the frontend, history, matching and worker services, each its
 * own process of the same binary (as a production deployment runs them), with the `postgres12` plugin
 * for both the main and the visibility store. The schemas are set up once; the namespace and
 * Handoff's search attributes are registered through the frontend, as an operator would.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import {
  encodeSearchAttributeIndexedValueType,
  type SearchAttributeKey,
} from '@temporalio/common/lib/search-attributes.js';
import { msToTs } from '@temporalio/common/lib/time.js';
import { handoffSearchAttributes } from '../temporal/search-attributes.js';
import { isAlive, type ManagedProcess, startProcess, tail, waitForPort } from './processes.js';

export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

/** gRPC and membership ports of each service, plus the frontend's HTTP port. */
export interface TemporalPorts {
  grpc: Record<TemporalService, number>;
  membership: Record<TemporalService, number>;
  frontendHttp: number;
}

export interface DatabaseSettings {
  port: number;
  user: string;
  password: string;
}

export interface TemporalServerOptions {
  binary: string;
  sqlTool: string;
  schemaDir: string;
  /** Holds the config file, the dynamic config and the schema stamp. */
  stateDir: string;
  logDir: string;
  ports: TemporalPorts;
  database: DatabaseSettings;
  namespace: string;
  detached?: boolean;
  startTimeoutMs?: number;
}

/** How long closed runs stay visible (the namespace's retention). */
const RETENTION = '3 days';

export const DATABASES = { main: 'temporal', visibility: 'temporal_visibility' } as const;

function sqlStore(database: DatabaseSettings, name: string, maxConns: number) {
  return {
    sql: {
      pluginName: 'postgres12',
      databaseName: name,
      connectAddr: `127.0.0.1:${database.port}`,
      connectProtocol: 'tcp',
      user: database.user,
      password: database.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  };
}

/** The server's config (JSON is YAML, which the server reads). Every service binds 127.0.0.1 only. */
export function serverConfig(options: TemporalServerOptions): object {
  const { ports, database } = options;
  const service = (name: TemporalService) => ({
    rpc: {
      grpcPort: ports.grpc[name],
      membershipPort: ports.membership[name],
      bindOnLocalHost: true,
      ...(name === 'frontend' ? { httpPort: ports.frontendHttp } : {}),
    },
  });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: {
        'postgres-default': sqlStore(database, DATABASES.main, 20),
        'postgres-visibility': sqlStore(database, DATABASES.visibility, 4),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: Object.fromEntries(TEMPORAL_SERVICES.map((name) => [name, service(name)])),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.grpc.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: join(options.stateDir, 'dynamic-config.yaml'), pollInterval: '10s' },
  };
}

/** Offline-friendly and quick to see new search attributes (a test registers and uses them at once). */
const DYNAMIC_CONFIG = `frontend.enableServerVersionCheck:
  - value: false
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
`;

function sqlTool(options: TemporalServerOptions, database: string, args: string[]): void {
  const result = spawnSync(
    options.sqlTool,
    [
      '--plugin',
      'postgres12',
      '--endpoint',
      '127.0.0.1',
      '--port',
      String(options.database.port),
      '--user',
      options.database.user,
      '--database',
      database,
      ...args,
    ],
    { encoding: 'utf8', env: { ...process.env, SQL_PASSWORD: options.database.password } },
  );
  if (result.status !== 0) {
    throw new Error(
      `temporal-sql-tool ${args.join(' ')} on ${database} failed:\n${result.stdout}${result.stderr}`,
    );
  }
}

/** Creates both databases and brings their schemas to the server's version; once (a stamp records it). */
export function setUpSchemas(options: TemporalServerOptions): void {
  const stamp = join(options.stateDir, 'schema-ready');
  if (existsSync(stamp)) return;
  for (const [database, folder] of [
    [DATABASES.main, 'temporal'],
    [DATABASES.visibility, 'visibility'],
  ] as const) {
    sqlTool(options, database, ['create-database']);
    sqlTool(options, database, ['setup-schema', '--version', '0.0']);
    sqlTool(options, database, [
      'update-schema',
      '--schema-dir',
      join(options.schemaDir, folder, 'versioned'),
    ]);
  }
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

/** Starts the four services and resolves once each listens. */
export async function startTemporalServices(options: TemporalServerOptions): Promise<ManagedProcess[]> {
  const configFile = join(options.stateDir, 'temporal-server.yaml');
  writeFileSync(configFile, JSON.stringify(serverConfig(options), null, 2));
  writeFileSync(join(options.stateDir, 'dynamic-config.yaml'), DYNAMIC_CONFIG);
  const started: ManagedProcess[] = [];
  try {
    const timeoutMs = options.startTimeoutMs ?? 120_000;
    // One after the other: each service writes the cluster metadata when it starts, and services
    // starting together on a fresh database race on that insert and exit.
    for (const service of TEMPORAL_SERVICES) {
      const process = startProcess({
        name: `temporal-${service}`,
        command: options.binary,
        args: ['--config-file', configFile, '--allow-no-auth', 'start', '--service', service],
        logFile: join(options.logDir, `temporal-${service}.log`),
        cwd: options.stateDir,
        ...(options.detached ? { detached: true } : {}),
      });
      started.push(process);
      await waitForPort(
        '127.0.0.1',
        options.ports.grpc[service],
        timeoutMs,
        `the Temporal ${service} service`,
        process,
      );
    }
    return started;
  } catch (error) {
    await Promise.all(started.map((process) => process.stop()));
    throw error;
  }
}

/**
 * Registers the namespace and the search attributes unless they exist, then waits until the
 * frontend serves both (its namespace cache refreshes every few seconds).
 */
export async function registerNamespace(
  address: string,
  namespace: string,
  timeoutMs: number,
  services: readonly ManagedProcess[] = [],
  searchAttributes: readonly SearchAttributeKey<SearchAttributeType>[] = handoffSearchAttributes,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const dead = services.find((service) => !isAlive(service.pid));
    if (dead) throw new Error(`${dead.name} exited. Last lines of ${dead.logFile}:\n${tail(dead.logFile)}`);
    const connection = await Connection.connect({ address, connectTimeout: 5_000 }).catch(
      (error: unknown) => {
        lastError = error;
        return undefined;
      },
    );
    if (connection) {
      try {
        await ensureNamespace(connection, namespace);
        await ensureSearchAttributes(connection, namespace, searchAttributes);
        return;
      } catch (error) {
        lastError = error;
      } finally {
        await connection.close();
      }
    }
    await sleep(500);
  }
  throw new Error(
    `namespace ${namespace} with Handoff's search attributes was not ready on ${address} within ${timeoutMs} ms: ${String(lastError)}`,
  );
}

async function ensureNamespace(connection: Connection, namespace: string): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return;
  } catch {
    // Not registered (or the frontend is still warming up): register, then describe again.
  }
  await connection.workflowService
    .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION) })
    .catch((error: unknown) => {
      if (!/already exists/i.test(String(error))) throw error;
    });
  await connection.workflowService.describeNamespace({ namespace });
}

async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly SearchAttributeKey<SearchAttributeType>[],
): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = keys.filter((key) => customAttributes?.[key.name] === undefined);
  if (missing.length === 0) return;
  const searchAttributes: Record<
    string,
    NonNullable<ReturnType<typeof encodeSearchAttributeIndexedValueType>>
  > = {};
  for (const key of missing) {
    const indexedType = encodeSearchAttributeIndexedValueType(key.type);
    if (indexedType === undefined) throw new Error(`search attribute ${key.name} has no indexed type`);
    searchAttributes[key.name] = indexedType;
  }
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  throw new Error(
    `search attributes just added, not yet visible: ${missing.map((key) => key.name).join(', ')}`,
  );
}
