// The bench's arithmetic and command line (issue 12.1), and one tiny run end to end. Nothing here
// asserts a speed: the figures only have to be there, finite and from the requested pairs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseBenchArgs, sizePresets } from '../bench/perf/options.js';
import type { BenchResult } from '../bench/perf/run.js';
import { formatTable, latencyFigures, median, percentile, ratioSpreads } from '../bench/perf/stats.js';

describe('bench arithmetic', () => {
  it('takes nearest-rank percentiles of sorted values', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile(values, 1)).toBe(100);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('takes the median of unsorted values, odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('names latency figures with and without a prefix', () => {
    expect(latencyFigures([30, 10, 20])).toEqual({ p50Ms: 20, p99Ms: 30 });
    expect(latencyFigures([5], 'answer')).toEqual({ answerP50Ms: 5, answerP99Ms: 5 });
  });

  it('takes each ratio within its pair, then min, median and max over the pairs', () => {
    const pairs = [
      { handoff: { throughput: 80 }, bare: { throughput: 100 } },
      { handoff: { throughput: 45 }, bare: { throughput: 50 } },
      { handoff: { throughput: 70 }, bare: { throughput: 100 } },
    ];
    // Pooled, the sides would give 195/250 = 0.78; per pair the ratios are 0.8, 0.9, 0.7.
    const { throughput } = ratioSpreads(pairs, ['throughput']);
    expect(throughput?.min).toBeCloseTo(0.7);
    expect(throughput?.median).toBeCloseTo(0.8);
    expect(throughput?.max).toBeCloseTo(0.9);
  });

  it('leaves out a pair whose bare figure is missing or zero', () => {
    const { p99Ms } = ratioSpreads(
      [
        { handoff: { p99Ms: 10 }, bare: { p99Ms: 0 } },
        { handoff: { p99Ms: 12 }, bare: {} },
        { handoff: { p99Ms: 12 }, bare: { p99Ms: 10 } },
      ],
      ['p99Ms'],
    );
    expect(p99Ms).toEqual({ min: 1.2, median: 1.2, max: 1.2 });
  });

  it('prints a Markdown table with the ratio spread and both absolute figures', () => {
    const table = formatTable([
      {
        measure: 'Webhook',
        ratio: { min: 0.7, median: 0.8, max: 0.9 },
        handoff: 412,
        bare: 515,
        unit: 'req/s',
      },
    ]);
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toContain('| Webhook | 0.80× (0.70–0.90) | 412 req/s | 515 req/s |');
  });
});

describe('bench command line', () => {
  it('defaults to every row, 3 pairs, the full size', () => {
    expect(parseBenchArgs([])).toEqual({
      rows: ['webhook', 'transfers', 'incoming', 'next', 'memory', 'replay'],
      pairs: 3,
      size: 'full',
      sizes: sizePresets.full,
    });
  });

  it('--quick picks the quick size; flags override single sizes; rows by number or name, in table order', () => {
    const options = parseBenchArgs(['--quick', '--rows', 'incoming,1', '--requests', '40', '--pairs', '4']);
    expect(options).toMatchObject({
      rows: ['webhook', 'incoming'],
      pairs: 4,
      size: 'quick',
      sizes: { ...sizePresets.quick, webhookRequests: 40 },
    });
  });

  it('row 5 by number or name, with its own sizes', () => {
    expect(parseBenchArgs(['--rows', '5', '--parked', '40', '--memory-requests', '200'])).toMatchObject({
      rows: ['memory'],
      sizes: { ...sizePresets.full, parkedWorkflows: 40, memoryRequests: 200 },
    });
    expect(parseBenchArgs(['--rows', 'memory', '--quick'])).toMatchObject({
      rows: ['memory'],
      sizes: { parkedWorkflows: sizePresets.quick.parkedWorkflows },
    });
  });

  it('--size wins over --quick', () => {
    expect(parseBenchArgs(['--quick', '--size', 'tiny'])).toMatchObject({
      size: 'tiny',
      sizes: sizePresets.tiny,
    });
  });

  it.each([
    [['--pairs', '0'], /--pairs must be a whole number of 1 or more, got "0"/],
    [['--in-flight', '2.5'], /--in-flight must be a whole number/],
    [['--rows', '9'], /--rows takes row numbers 1, 2, 3, 4, 5, 6 or names/],
    [['--parked', '0'], /--parked must be a whole number/],
    [['--size', 'huge'], /--size must be one of tiny, quick, full/],
    [['--fast'], /Unknown option '--fast'/],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });

  it('answers --help', () => {
    expect(parseBenchArgs(['--help'])).toBe('help');
  });
});

describe('npm run bench, tiny', () => {
  it('runs rows 1, 5 and 6 as one Handoff/bare pair against its own dev server and writes the JSON results and the HTML report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'handoff-bench-test-'));
    try {
      const out = join(dir, 'result.json');
      const { code, stdout, stderr } = await new Promise<{
        code: number | null;
        stdout: string;
        stderr: string;
      }>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            'bench/bench.ts',
            '--quick',
            '--rows',
            '1,5,6',
            '--pairs',
            '1',
            '--size',
            'tiny',
            '--out',
            out,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => {
          stdout += chunk;
        });
        child.stderr.on('data', (chunk) => {
          stderr += chunk;
        });
        child.on('close', (exitCode) => resolve({ code: exitCode, stdout, stderr }));
      });
      expect(code, stderr).toBe(0);
      expect(stdout).toContain('1. Webhook: notification POST → signal → 202, throughput');
      expect(stdout).toMatch(/before: \d+ CPUs .*load average/);
      const result = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
      expect(result.rows.map((row) => row.row)).toEqual(['webhook', 'memory', 'replay']);
      const replay = result.rows[2]?.pairs[0];
      expect(replay?.handoff.historiesPerSecond).toBeGreaterThan(0);
      expect(replay?.bare.historiesPerSecond).toBeGreaterThan(0);
      expect(stdout).toContain('6. Replay, histories/s');
      const [row] = result.rows;
      expect(row?.pairs).toHaveLength(1);
      for (const side of [row!.pairs[0]!.handoff, row!.pairs[0]!.bare]) {
        expect(side.throughput).toBeGreaterThan(0);
        expect(side.p99Ms).toBeGreaterThanOrEqual(side.p50Ms as number);
      }
      expect(Number.isFinite(row?.ratios.throughput?.median)).toBe(true);
      // Row 5: each side's own worker and webhook processes were read. A per-workflow difference
      // over 3 parked workflows may be negative (a GC between readings): only finite is asserted.
      const memory = result.rows[1]!;
      for (const side of [memory.pairs[0]!.handoff, memory.pairs[0]!.bare]) {
        expect(Number.isFinite(side.rssPerWorkflowKb)).toBe(true);
        expect(Number.isFinite(side.heapPerWorkflowKb)).toBe(true);
        expect(side.workerBaselineRssMb).toBeGreaterThan(0);
        expect(side.webhookRssMb).toBeGreaterThan(0);
        expect(side.webhookHeapMb).toBeGreaterThan(0);
      }
      expect(stdout).toContain('5. Worker RSS per parked workflow');
      expect(stdout).toContain('5. Webhook RSS after the notification POSTs');
      // The HTML report beside it: the table and its charts, self-contained.
      const report = readFileSync(join(dir, 'result.html'), 'utf8');
      expect(report).toContain('1. Webhook: notification POST → signal → 202, throughput');
      expect(report).toContain('<svg');
      expect(report).toContain('memory per pair (KB)');
      expect(report).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
      expect(stdout).toContain(`report:  ${join(dir, 'result.html')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
