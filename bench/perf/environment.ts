/** What the figures were measured on: they mean little without it (docs/performance.md). */
import { cpus, loadavg, totalmem } from 'node:os';

export interface BenchEnvironment {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  /** 1, 5 and 15 minute load averages. */
  loadAverage: [number, number, number];
}

export function currentEnvironment(): BenchEnvironment {
  const [one, five, fifteen] = loadavg() as [number, number, number];
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: [one, five, fifteen].map((value) => Math.round(value * 100) / 100) as [
      number,
      number,
      number,
    ],
  };
}

export function formatEnvironment(label: string, environment: BenchEnvironment): string {
  return `${label}: ${environment.cpus} CPUs (${environment.cpuModel}), ${environment.memoryGb} GB, Node ${environment.node}, load average ${environment.loadAverage.join(' / ')}`;
}
