import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';

// Runs in a separate tiny Node process. It holds the read end of a pipe whose write end only this
// (parent) process has: when the parent dies in any way, including SIGKILL or a test runner killing
// its worker, the OS closes the pipe and the reaper stops the child. A `process.on('exit')` hook
// would miss exactly those cases. Writing to the pipe before closing it disarms the reaper.
const REAPER_SOURCE = `
const pid = Number(process.argv[1]);
let disarmed = false;
for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(signal, () => {});
const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
process.stdin.on('data', () => { disarmed = true; });
process.stdin.on('close', () => {
  if (disarmed || !alive()) process.exit(0);
  try { process.kill(pid, 'SIGTERM'); } catch {}
  const started = Date.now();
  const timer = setInterval(() => {
    if (!alive()) process.exit(0);
    if (Date.now() - started > 10000) { try { process.kill(pid, 'SIGKILL'); } catch {} process.exit(0); }
  }, 100);
});
process.stdin.resume();
`;

export interface Reaper {
  /** Call once the child has exited (or is being stopped by the parent): the reaper then exits quietly. */
  disarm(): void;
}

/** Makes sure `child` does not outlive this process. */
export function reapOnParentExit(child: ChildProcess): Reaper {
  if (child.pid === undefined) throw new Error('reapOnParentExit: the child process has no pid');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Loaders from tsx or a test runner are not needed and would only slow the reaper's start.
  delete env.NODE_OPTIONS;
  const reaper = spawn(process.execPath, ['-e', REAPER_SOURCE, String(child.pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    env,
  });
  // Neither the reaper nor its pipe may keep this process alive.
  reaper.unref();
  (reaper.stdin as unknown as Socket).unref();
  reaper.stdin.on('error', () => {
    // The reaper is gone (e.g. killed with the process group); nothing left to disarm.
  });
  let disarmed = false;
  return {
    disarm(): void {
      if (disarmed) return;
      disarmed = true;
      reaper.stdin.end('disarm');
    },
  };
}
