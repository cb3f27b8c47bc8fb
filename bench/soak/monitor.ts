/**
 * Watches what the soak costs the machine: resident memory and CPU time of each process (this one,
 * the Temporal dev server, every worker generation) and the load average, sampled from /proc.
 * On a machine without /proc (macOS) only this process and the load average are reported.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export interface ProcessUsage {
  name: string;
  pid: number;
  peakRssMb: number;
  /** user + system CPU seconds, as last sampled (a killed worker keeps its last sample). */
  cpuSeconds: number;
}

export interface UsageReport {
  processes: ProcessUsage[];
  peakLoad1: number;
  samples: number;
}

export interface UsageMonitor {
  /** Starts watching a process under a name (`temporal`, `worker-1`, …). */
  watch(name: string, pid: number): void;
  stop(): UsageReport;
}

const clockTicks = 100; // USER_HZ on Linux

function sampleProc(pid: number): { rssMb: number; cpuSeconds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (!Number.isFinite(rssKb) || !Number.isFinite(ticks)) return undefined;
    return { rssMb: rssKb / 1024, cpuSeconds: ticks / clockTicks };
  } catch {
    return undefined; // Exited, or no /proc here.
  }
}

export function startUsageMonitor(intervalMs = 1_000): UsageMonitor {
  const watched = new Map<number, ProcessUsage>();
  let peakLoad1 = 0;
  let samples = 0;
  const own: ProcessUsage = {
    name: 'soak (simulator + webhook)',
    pid: process.pid,
    peakRssMb: 0,
    cpuSeconds: 0,
  };
  watched.set(process.pid, own);

  const sample = () => {
    samples += 1;
    peakLoad1 = Math.max(peakLoad1, loadavg()[0] ?? 0);
    for (const usage of watched.values()) {
      const current = sampleProc(usage.pid);
      if (current) {
        usage.peakRssMb = Math.max(usage.peakRssMb, current.rssMb);
        usage.cpuSeconds = current.cpuSeconds;
      } else if (usage.pid === process.pid) {
        const cpu = process.cpuUsage();
        usage.peakRssMb = Math.max(usage.peakRssMb, process.memoryUsage().rss / 2 ** 20);
        usage.cpuSeconds = (cpu.user + cpu.system) / 1e6;
      }
    }
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  sample();

  return {
    watch(name, pid) {
      watched.set(pid, { name, pid, peakRssMb: 0, cpuSeconds: 0 });
      sample();
    },
    stop() {
      sample();
      clearInterval(timer);
      return { processes: [...watched.values()], peakLoad1, samples };
    },
  };
}
