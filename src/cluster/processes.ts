/**
 * The long-running processes of the cluster (PostgreSQL, the Temporal services): started with their
 * output in a log file, either tied to this process (tests: they die with it, see reaper.ts) or
 * detached (`npm run cluster`: they outlive the command and `npm run cluster -- down` stops them).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { reapOnParentExit } from '../temporal/reaper.js';

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** SIGTERM, SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** Outlive this process (no reaper); its pid is all a later command needs to stop it. */
  detached?: boolean;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process this one may not have started (a detached cluster, from its state file). */
export async function stopPid(pid: number, graceMs = 15_000): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
}

export function startProcess(options: SpawnOptions): ManagedProcess {
  const log = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', log, log],
      detached: options.detached ?? false,
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    });
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) {
    throw new Error(`${options.name} could not be started (${options.command})`);
  }
  const pid = child.pid;
  // A detached process must not keep this one's event loop alive, nor be killed when it exits.
  const reaper = options.detached ? undefined : reapOnParentExit(child);
  if (options.detached) child.unref();
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  void exited.then(() => reaper?.disarm());
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    pid,
    logFile: options.logFile,
    stop: (graceMs = 15_000) => {
      stopping ??= (async () => {
        reaper?.disarm();
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
}

/** Resolves once something accepts TCP connections on host:port, or fails after `timeoutMs`. */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  what: string,
  process?: ManagedProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolveProbe) => {
      const socket = connect({ host, port, timeout: 1_000 });
      socket.once('connect', () => {
        socket.destroy();
        resolveProbe(true);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolveProbe(false);
      });
      socket.once('error', () => resolveProbe(false));
    });
    if (open) return;
    if (process && !isAlive(process.pid)) {
      throw new Error(
        `${what} exited during start-up. Last lines of ${process.logFile}:\n${tail(process.logFile)}`,
      );
    }
    if (Date.now() > deadline) {
      const log = process ? `\nLast lines of ${process.logFile}:\n${tail(process.logFile)}` : '';
      throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs} ms${log}`);
    }
    await sleep(200);
  }
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
