/**
 * A bench run as one self-contained HTML page (issue 13.6), written next to the JSON results: the
 * ratio table, a chart of each ratio's spread over the pairs around 1×, and each latency's p50/p99
 * and row 5's memory figures per pair and side. Inline SVG, no script, no network.
 */
import { formatEnvironment } from './environment.js';
import { type BenchResult, rowMetrics, tableLines } from './run.js';

const HANDOFF_COLOUR = '#1f6feb';
const BARE_COLOUR = '#8b949e';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

function figure(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** Each ratio's min–max as a bar and its median as a dot, on a log scale around 1×. */
function ratioChart(result: BenchResult): string {
  const lines = tableLines(result.rows);
  const width = 760;
  const labelWidth = 380;
  const rowHeight = 26;
  const height = 40 + rowHeight * lines.length;
  const low = Math.log(0.25);
  const high = Math.log(4);
  const x = (ratio: number) =>
    labelWidth +
    ((Math.log(Math.min(4, Math.max(0.25, ratio))) - low) / (high - low)) * (width - labelWidth - 20);
  const ticks = [0.25, 0.5, 1, 2, 4]
    .map(
      (tick) =>
        `<line x1="${x(tick)}" y1="20" x2="${x(tick)}" y2="${height - 10}" stroke="${tick === 1 ? '#000' : '#ddd'}"/>` +
        `<text x="${x(tick)}" y="14" font-size="11" text-anchor="middle">${tick}×</text>`,
    )
    .join('');
  const bars = lines
    .map((line, index) => {
      const y = 34 + index * rowHeight;
      const { min, median, max } = line.ratio;
      if (!Number.isFinite(median)) return '';
      return (
        `<text x="${labelWidth - 8}" y="${y + 4}" font-size="12" text-anchor="end">${escapeHtml(line.measure)}</text>` +
        `<line x1="${x(min)}" y1="${y}" x2="${x(max)}" y2="${y}" stroke="${HANDOFF_COLOUR}" stroke-width="6" stroke-opacity="0.35"/>` +
        `<circle cx="${x(median)}" cy="${y}" r="5" fill="${HANDOFF_COLOUR}"><title>${figure(median)}× (${figure(min)}–${figure(max)})</title></circle>`
      );
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="Handoff / bare ratios">${ticks}${bars}</svg>`;
}

/** The units charted per pair, and what a chart of each is about. */
const perPairUnits: Record<string, string> = { ms: 'latency', s: 'latency', KB: 'memory', MB: 'memory' };

/**
 * Each pair's figure of both sides, one chart per row and unit: the latencies' p50/p99 (the
 * distribution the medians summarise) and row 5's memory. A memory difference can come out
 * negative on a small run (a GC between the readings), so the scale starts below 0 when one does.
 */
function perPairCharts(result: BenchResult): string {
  return result.rows
    .flatMap((row) =>
      [...new Set(rowMetrics[row.row].map(({ unit }) => unit))]
        .filter((unit) => unit in perPairUnits)
        .map((unit) => {
          const metrics = rowMetrics[row.row].filter((metric) => metric.unit === unit);
          const values = row.pairs
            .flatMap((pair) => metrics.flatMap(({ metric }) => [pair.handoff[metric], pair.bare[metric]]))
            .filter((value): value is number => value !== undefined && Number.isFinite(value));
          const top = Math.max(...values, 1e-9);
          const bottom = Math.min(...values, 0);
          const width = 760;
          const height = 40 + 22 * metrics.length * 2;
          const x = (value: number) => 200 + ((value - bottom) / (top - bottom)) * (width - 240);
          const marks = metrics
            .flatMap(({ metric, measure }, metricIndex) =>
              (['handoff', 'bare'] as const).map((side, sideIndex) => {
                const y = 30 + (metricIndex * 2 + sideIndex) * 22;
                const dots = row.pairs
                  .map((pair) => pair[side][metric])
                  .filter((value): value is number => value !== undefined && Number.isFinite(value))
                  .map(
                    (value) =>
                      `<circle cx="${x(value)}" cy="${y}" r="4" fill="${side === 'handoff' ? HANDOFF_COLOUR : BARE_COLOUR}"><title>${figure(value)} ${unit}</title></circle>`,
                  )
                  .join('');
                const label = `${measure.replace(/^\d+\.\s*/, '').slice(-34)} · ${side}`;
                return `<text x="192" y="${y + 4}" font-size="11" text-anchor="end">${escapeHtml(label)}</text>${dots}`;
              }),
            )
            .join('');
          return (
            `<h3>${escapeHtml(rowMetrics[row.row][0]?.measure.split(',')[0] ?? row.row)}: ${perPairUnits[unit]} per pair (${escapeHtml(unit)})</h3>` +
            `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img">` +
            `<line x1="200" y1="16" x2="${width - 40}" y2="16" stroke="#ddd"/>` +
            `<text x="200" y="12" font-size="10">${figure(bottom)}</text><text x="${width - 40}" y="12" font-size="10" text-anchor="end">${figure(top)} ${unit}</text>` +
            `${marks}</svg>`
          );
        }),
    )
    .join('');
}

export function benchReportHtml(result: BenchResult): string {
  const rows = tableLines(result.rows)
    .map(
      (line) =>
        `<tr><td>${escapeHtml(line.measure)}</td><td>${figure(line.ratio.median)}× (${figure(line.ratio.min)}–${figure(line.ratio.max)})</td>` +
        `<td>${figure(line.handoff)} ${escapeHtml(line.unit)}</td><td>${figure(line.bare)} ${escapeHtml(line.unit)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Handoff bench ${escapeHtml(result.date)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:820px}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}</style>
</head><body>
<h1>Handoff / bare, ${escapeHtml(result.date)}</h1>
<p>size ${escapeHtml(result.options.size)}, ${result.options.pairs} pairs (Handoff then bare), ${result.wallSeconds.toFixed(0)} s.
Ratios are Handoff / bare within each pair, then median (min–max) over the pairs (docs/performance.md).
<span style="color:${HANDOFF_COLOUR}">●</span> Handoff <span style="color:${BARE_COLOUR}">●</span> bare</p>
<pre>${escapeHtml(formatEnvironment('before', result.environmentBefore))}
${escapeHtml(formatEnvironment('after ', result.environmentAfter))}</pre>
<table><tr><th>Measure</th><th>Handoff / bare</th><th>Handoff (median)</th><th>bare (median)</th></tr>
${rows}
</table>
<h2>Ratios (log scale, 1× = as fast as bare)</h2>
${ratioChart(result)}
<h2>Per pair: latencies and memory</h2>
${perPairCharts(result)}
</body></html>
`;
}
