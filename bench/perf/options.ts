/** The bench's command line: `npm run bench -- --quick --rows 1,2 --pairs 3` (docs/performance.md). */
import { parseArgs } from 'node:util';

/** The rows of issue 12's table the bench measures, in its order. */
export const benchRows = ['webhook', 'transfers', 'incoming', 'next', 'memory', 'replay'] as const;
export type BenchRow = (typeof benchRows)[number];

/** Each row's number in the table. */
export const benchRowNumbers: Record<BenchRow, number> = {
  webhook: 1,
  transfers: 2,
  incoming: 3,
  next: 4,
  memory: 5,
  replay: 6,
};

/** How much work each side of a pair does: `tiny` for the smoke test, `quick` for --quick, `full`. */
export const benchSizes = ['tiny', 'quick', 'full'] as const;
export type BenchSize = (typeof benchSizes)[number];

export interface RowSizes {
  /** Row 1: notification POSTs per side per pair. */
  webhookRequests: number;
  /** Row 1: POSTs in flight at once. */
  webhookInFlight: number;
  /** Row 1: parked workflows the POSTs are spread over. */
  webhookWorkflows: number;
  /** Row 2: transfers (or bare workflows) started at once per side per pair. */
  transfers: number;
  /** Row 3: incoming-call notifications posted together per side per pair. */
  incomingCalls: number;
  /** Row 4: parked workflows sent their next notification at once. */
  nextInFlight: number;
  /** Row 5: workflows parked in each side's worker process per pair (beyond its warm-up ones). */
  parkedWorkflows: number;
  /** Row 5: notification POSTs to each side's webhook process per pair, before its RSS is read. */
  memoryRequests: number;
  /** Row 6: completed histories of each side replayed per pair. */
  replayHistories: number;
}

export const sizePresets: Record<BenchSize, RowSizes> = {
  tiny: {
    webhookRequests: 20,
    webhookInFlight: 5,
    webhookWorkflows: 2,
    transfers: 2,
    incomingCalls: 2,
    nextInFlight: 2,
    parkedWorkflows: 3,
    memoryRequests: 20,
    replayHistories: 4,
  },
  quick: {
    webhookRequests: 300,
    webhookInFlight: 50,
    webhookWorkflows: 10,
    transfers: 15,
    incomingCalls: 20,
    nextInFlight: 20,
    parkedWorkflows: 30,
    memoryRequests: 300,
    replayHistories: 60,
  },
  full: {
    webhookRequests: 2_000,
    webhookInFlight: 50,
    webhookWorkflows: 50,
    transfers: 150,
    incomingCalls: 150,
    nextInFlight: 50,
    parkedWorkflows: 1_000,
    memoryRequests: 10_000,
    replayHistories: 300,
  },
};

export interface BenchOptions {
  rows: BenchRow[];
  /** A B pairs per row (Handoff, then bare). */
  pairs: number;
  size: BenchSize;
  sizes: RowSizes;
  /** Where the JSON results go; default bench/results/<date>.json. */
  out?: string;
}

export class BenchUsageError extends Error {}

export const usage = `npm run bench -- [options]

  --quick              3 pairs at the quick size (under 3 minutes on 2 cores)
  --size <s>           tiny | quick | full (default full; --quick means quick)
  --pairs <n>          A/B pairs per row, Handoff then bare (default 3, --quick 3)
  --rows <list>        rows to measure, by the issue's number or name: 1|webhook,
                       2|transfers, 3|incoming, 4|next, 5|memory, 6|replay (default all)
  --requests <n>       row 1: notification POSTs per side per pair
  --in-flight <n>      row 1: POSTs in flight at once
  --workflows <n>      row 1: parked workflows the POSTs are spread over
  --transfers <n>      row 2: transfers started at once per side per pair
  --calls <n>          row 3: incoming calls arriving together per side per pair
  --next-in-flight <n> row 4: parked transfers sent their next notification at once
  --parked <n>         row 5: workflows parked in each side's worker process per pair
  --memory-requests <n> row 5: notification POSTs to each side's webhook process per pair
  --histories <n>      row 6: histories replayed per side per pair
  --out <file>         JSON results (default bench/results/<date>.json)
  --help`;

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new BenchUsageError(`--${flag} must be a whole number of 1 or more, got "${value}"`);
  }
  return parsed;
}

function parseRows(value: string | undefined): BenchRow[] {
  if (value === undefined) return [...benchRows];
  const rows: BenchRow[] = [];
  for (const item of value.split(',').map((part) => part.trim())) {
    const byNumber = /^\d+$/.test(item)
      ? benchRows.find((name) => benchRowNumbers[name] === Number(item))
      : undefined;
    const row = byNumber ?? benchRows.find((name) => name === item);
    if (row === undefined) {
      throw new BenchUsageError(
        `--rows takes row numbers ${benchRows.map((name) => benchRowNumbers[name]).join(', ')} or names (${benchRows.join(', ')}), got "${item}"`,
      );
    }
    if (!rows.includes(row)) rows.push(row);
  }
  // The table's order, whatever order they were given in.
  return benchRows.filter((row) => rows.includes(row));
}

/** Parses argv (without node and script); 'help' for --help. Throws BenchUsageError naming the flag. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean' },
        size: { type: 'string' },
        pairs: { type: 'string' },
        rows: { type: 'string' },
        requests: { type: 'string' },
        'in-flight': { type: 'string' },
        workflows: { type: 'string' },
        transfers: { type: 'string' },
        calls: { type: 'string' },
        histories: { type: 'string' },
        'next-in-flight': { type: 'string' },
        parked: { type: 'string' },
        'memory-requests': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new BenchUsageError(`${(error as Error).message}\n\n${usage}`);
  }
  if (values.help) return 'help';
  const sizeFlag = values.size as string | undefined;
  if (sizeFlag !== undefined && !benchSizes.includes(sizeFlag as BenchSize)) {
    throw new BenchUsageError(`--size must be one of ${benchSizes.join(', ')}, got "${sizeFlag}"`);
  }
  const size: BenchSize = (sizeFlag as BenchSize | undefined) ?? (values.quick ? 'quick' : 'full');
  const preset = sizePresets[size];
  const sizes: RowSizes = {
    webhookRequests: positiveInt('requests', values.requests as string | undefined, preset.webhookRequests),
    webhookInFlight: positiveInt(
      'in-flight',
      values['in-flight'] as string | undefined,
      preset.webhookInFlight,
    ),
    webhookWorkflows: positiveInt(
      'workflows',
      values.workflows as string | undefined,
      preset.webhookWorkflows,
    ),
    transfers: positiveInt('transfers', values.transfers as string | undefined, preset.transfers),
    incomingCalls: positiveInt('calls', values.calls as string | undefined, preset.incomingCalls),
    nextInFlight: positiveInt(
      'next-in-flight',
      values['next-in-flight'] as string | undefined,
      preset.nextInFlight,
    ),
    parkedWorkflows: positiveInt('parked', values.parked as string | undefined, preset.parkedWorkflows),
    memoryRequests: positiveInt(
      'memory-requests',
      values['memory-requests'] as string | undefined,
      preset.memoryRequests,
    ),
    replayHistories: positiveInt('histories', values.histories as string | undefined, preset.replayHistories),
  };
  const pairs = positiveInt('pairs', values.pairs as string | undefined, 3);
  const out = values.out as string | undefined;
  return { rows: parseRows(values.rows as string | undefined), pairs, size, sizes, ...(out ? { out } : {}) };
}
