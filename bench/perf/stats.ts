/** The bench's arithmetic: percentiles, Handoff/bare ratios over pairs, and the printed table. */

/** Nearest-rank percentile of ascending `sorted` values; NaN for none. `share` is 0..1. */
export function percentile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(share * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** The median of unsorted values (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN };
  return { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}

/** One side's figures of one pair, e.g. `{ throughput: 412, p50Ms: 80 }`. */
export type Figures = Record<string, number>;

export interface PairResult {
  handoff: Figures;
  bare: Figures;
}

/**
 * Handoff/bare of each metric in every pair, then min/median/max over the pairs. A ratio is taken
 * within one pair (A and B measured back to back), so a machine that slows down over the run
 * moves both sides of a pair alike.
 */
export function ratioSpreads(
  pairs: readonly PairResult[],
  metrics: readonly string[],
): Record<string, Spread> {
  const spreads: Record<string, Spread> = {};
  for (const metric of metrics) {
    const ratios = pairs
      .map((pair) => (pair.handoff[metric] ?? Number.NaN) / (pair.bare[metric] ?? Number.NaN))
      .filter((ratio) => Number.isFinite(ratio));
    spreads[metric] = spreadOf(ratios);
  }
  return spreads;
}

/** Latency figures of one side: p50 and p99 in ms, as `<prefix>P50Ms` (`p50Ms` without a prefix). */
export function latencyFigures(latenciesMs: readonly number[], prefix = ''): Figures {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const name = (quantile: string) => (prefix ? `${prefix}${quantile.toUpperCase()}Ms` : `${quantile}Ms`);
  return { [name('p50')]: percentile(sorted, 0.5), [name('p99')]: percentile(sorted, 0.99) };
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatRatio(spread: Spread): string {
  return `${formatNumber(spread.median)}× (${formatNumber(spread.min)}–${formatNumber(spread.max)})`;
}

/** Median of one metric of one side over the pairs, for the absolute columns. */
export function sideMedian(pairs: readonly PairResult[], side: 'handoff' | 'bare', metric: string): number {
  return median(
    pairs.map((pair) => pair[side][metric] ?? Number.NaN).filter((value) => Number.isFinite(value)),
  );
}

export interface TableLine {
  measure: string;
  ratio: Spread;
  handoff: number;
  bare: number;
  unit: string;
}

/** A Markdown table: ratio median (min–max) and each side's median absolute figure. */
export function formatTable(lines: readonly TableLine[]): string {
  const rows = lines.map(
    (line) =>
      `| ${line.measure} | ${formatRatio(line.ratio)} | ${formatNumber(line.handoff)} ${line.unit} | ${formatNumber(line.bare)} ${line.unit} |`,
  );
  return [
    '| Measure | Handoff / bare, median (min–max) | Handoff (median) | bare (median) |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}
