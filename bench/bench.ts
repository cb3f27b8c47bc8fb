/**
 * Issue 12's benchmark: each row of its table as Handoff vs a bare Temporal workflow of the same
 * shape, interleaved A B A B in one run against one dev server (docs/performance.md).
 *
 *   npm run bench -- --quick
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatEnvironment } from './perf/environment.js';
import { BenchUsageError, parseBenchArgs, usage } from './perf/options.js';
import { benchReportHtml } from './perf/report.js';
import { runBench, tableLines } from './perf/run.js';
import { formatTable } from './perf/stats.js';

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseBenchArgs>;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof BenchUsageError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    console.log(usage);
    return 0;
  }
  const result = await runBench(options, log);
  const out =
    options.out ??
    join(dirname(fileURLToPath(import.meta.url)), 'results', `${result.date.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  // The same run as a page with charts, beside it (issue 13.6).
  const report = out.replace(/(\.json)?$/, '.html');
  writeFileSync(report, benchReportHtml(result));
  console.log(formatTable(tableLines(result.rows)));
  console.log('');
  console.log(
    `size ${options.size}, ${options.pairs} pairs (Handoff then bare), ${result.wallSeconds.toFixed(0)} s`,
  );
  console.log(formatEnvironment('before', result.environmentBefore));
  console.log(formatEnvironment('after ', result.environmentAfter));
  console.log(`results: ${out}`);
  console.log(`report:  ${report}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('the bench could not run:', error);
    process.exit(1);
  },
);
