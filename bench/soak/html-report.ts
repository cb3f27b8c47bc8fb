/**
 * The soak's picture (issue 13.6): one self-contained HTML file (inline SVG, no script, no external
 * asset) with every transfer's duration against the moment it closed (when its latency was seen,
 * so a transfer an outage held up shows after the band), the p50 and p95 per time slice, the outages as shaded bands and each kill or restart as a labelled line; the text summary
 * follows in full. Pure: `renderSoakReport` turns data into a string, `writeSoakReport` files it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile } from './report.js';

export interface ReportPoint {
  /** When it closed, in seconds since the first call was placed. */
  closedSeconds: number;
  durationSeconds: number;
  outcome: 'completed' | 'failed' | 'other';
}

export interface ReportBand {
  fromSeconds: number;
  toSeconds: number;
  label: string;
}

export interface ReportMark {
  atSeconds: number;
  label: string;
}

export interface SoakReportInput {
  title: string;
  points: readonly ReportPoint[];
  /** Outages: shaded. */
  bands: readonly ReportBand[];
  /** Kills and restarts: a dashed line each. */
  marks: readonly ReportMark[];
  /** The soak's text output, shown below the chart. */
  summaryText: string;
  pass: boolean;
}

const WIDTH = 960;
const HEIGHT = 420;
const MARGIN = { left: 60, right: 20, top: 30, bottom: 50 };
const SLICES = 20;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A round step for about `count` ticks over 0..max. */
function tickStep(max: number, count: number): number {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalized = raw / magnitude;
  return (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
}

const colours: Record<ReportPoint['outcome'], string> = {
  completed: '#2b6cb0',
  failed: '#c53030',
  other: '#b7791f',
};

/** The chart alone: an <svg> element. */
export function renderLatencyChart(input: Omit<SoakReportInput, 'summaryText' | 'pass' | 'title'>): string {
  const ends = [
    ...input.points.map((point) => point.closedSeconds),
    ...input.bands.map((band) => band.toSeconds),
    ...input.marks.map((mark) => mark.atSeconds),
  ];
  const maxX = Math.max(1, ...ends) * 1.02;
  const maxY = Math.max(1, ...input.points.map((point) => point.durationSeconds)) * 1.1;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (seconds: number) => MARGIN.left + (seconds / maxX) * plotWidth;
  const y = (seconds: number) => MARGIN.top + plotHeight - (seconds / maxY) * plotHeight;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
  );
  for (const band of input.bands) {
    const from = x(Math.max(0, band.fromSeconds));
    const width = Math.max(2, x(band.toSeconds) - from);
    parts.push(
      `<rect class="outage" x="${from.toFixed(1)}" y="${MARGIN.top}" width="${width.toFixed(1)}" height="${plotHeight}" fill="#f6ad55" fill-opacity="0.3"><title>${escapeXml(band.label)}</title></rect>`,
    );
  }
  // Axes and ticks.
  const xStep = tickStep(maxX, 10);
  for (let tick = 0; tick <= maxX; tick += xStep) {
    parts.push(
      `<line x1="${x(tick).toFixed(1)}" y1="${MARGIN.top + plotHeight}" x2="${x(tick).toFixed(1)}" y2="${MARGIN.top + plotHeight + 4}" stroke="#333"/><text x="${x(tick).toFixed(1)}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle">${Number(tick.toFixed(1))}</text>`,
    );
  }
  const yStep = tickStep(maxY, 6);
  for (let tick = 0; tick <= maxY; tick += yStep) {
    parts.push(
      `<line x1="${MARGIN.left}" y1="${y(tick).toFixed(1)}" x2="${MARGIN.left + plotWidth}" y2="${y(tick).toFixed(1)}" stroke="#e2e8f0"/><text x="${MARGIN.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${Number(tick.toFixed(1))}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotHeight}" x2="${MARGIN.left + plotWidth}" y2="${MARGIN.top + plotHeight}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotHeight}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 12}" text-anchor="middle">transfer closed (s since the first call was placed)</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">transfer duration (s)</text>`,
  );
  for (const point of input.points) {
    parts.push(
      `<circle class="transfer" cx="${x(point.closedSeconds).toFixed(1)}" cy="${y(point.durationSeconds).toFixed(1)}" r="2.5" fill="${colours[point.outcome]}" fill-opacity="0.6"/>`,
    );
  }
  // p50 and p95 of the transfers that closed in each slice of the run.
  const sliceWidth = maxX / SLICES;
  for (const [share, colour, name] of [
    [0.5, '#2f855a', 'p50'],
    [0.95, '#9b2c2c', 'p95'],
  ] as const) {
    const vertices: string[] = [];
    for (let slice = 0; slice < SLICES; slice++) {
      const inSlice = input.points
        .filter(
          (point) =>
            point.closedSeconds >= slice * sliceWidth && point.closedSeconds < (slice + 1) * sliceWidth,
        )
        .map((point) => point.durationSeconds)
        .sort((a, b) => a - b);
      if (inSlice.length === 0) continue;
      vertices.push(
        `${x((slice + 0.5) * sliceWidth).toFixed(1)},${y(percentile(inSlice, share)).toFixed(1)}`,
      );
    }
    if (vertices.length > 0)
      parts.push(
        `<polyline class="${name}" points="${vertices.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`,
      );
  }
  input.marks.forEach((mark, index) => {
    const at = x(mark.atSeconds).toFixed(1);
    parts.push(
      `<line class="mark" x1="${at}" y1="${MARGIN.top}" x2="${at}" y2="${MARGIN.top + plotHeight}" stroke="#4a5568" stroke-dasharray="4 3"/>`,
      `<text x="${(Number(at) + 3).toFixed(1)}" y="${MARGIN.top + 12 + (index % 4) * 13}" fill="#2d3748">${escapeXml(mark.label)}</text>`,
    );
  });
  const legend = [
    ['#2b6cb0', 'completed'],
    ['#c53030', 'failed'],
    ['#2f855a', 'p50'],
    ['#9b2c2c', 'p95'],
    ['#f6ad55', 'outage (Graph side)'],
  ];
  legend.forEach(([colour, label], index) => {
    const left = MARGIN.left + index * 150;
    parts.push(
      `<rect x="${left}" y="8" width="10" height="10" fill="${colour}"/><text x="${left + 14}" y="17">${escapeXml(label as string)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function renderSoakReport(input: SoakReportInput): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(input.title)}</title>
<style>body{font-family:sans-serif;margin:20px;color:#1a202c}pre{background:#f7fafc;padding:12px;font-size:12px;overflow:auto}.pass{color:#2f855a}.fail{color:#c53030}</style>
</head><body>
<h1>${escapeXml(input.title)} <span class="${input.pass ? 'pass' : 'fail'}">${input.pass ? 'PASS' : 'FAIL'}</span></h1>
<p>Each dot is one transfer: when it closed and how long it took (Temporal start to close). Shaded: outages as Graph saw them; dashed: kills and restarts.</p>
${renderLatencyChart(input)}
<h2>Summary</h2>
<pre>${escapeXml(input.summaryText)}</pre>
</body></html>
`;
}

/** Writes `<dir>/<name>.html` (the folder is created) and returns its path. */
export function writeSoakReport(dir: string, name: string, input: SoakReportInput): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.html`);
  writeFileSync(path, renderSoakReport(input));
  return path;
}
