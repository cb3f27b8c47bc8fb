/** The soak's command line: `npm run soak -- --transfers 200 --kills 2 …` (docs/soak.md). */
import { parseArgs } from 'node:util';

export interface SoakOptions {
  /** Transfers started, all running at once. */
  transfers: number;
  /** Times the worker process is SIGKILLed and restarted. */
  kills: number;
  /** 0..1 share of Graph notifications never posted. */
  drop: number;
  /** 0..1 share of Graph notifications posted twice. */
  duplicate: number;
  /** 0..1 share of Graph API requests answered 429/503 with Retry-After. */
  throttle: number;
  /** Milliseconds each notification waits before it is posted (the simulator's delayMs). */
  delayMs: number;
  /** Webhook replicas the transfers are spread over: the simulator delivers to each in parallel. */
  webhooks: number;
  /**
   * The first N answer, N createCall and N invite requests are carried out but answered after the
   * Graph client gave up (a lost response): the workflow cannot tell whether they took effect.
   */
  lostResponses: number;
  /** Seeds the simulator's knobs and the soak's own choices (kill moments, callers, Retry-After). */
  seed: number;
  /** Seconds every transfer gets to close, counted from the first transfer placed. */
  timeoutSeconds: number;
  /** Seconds over which the incoming calls are placed (0: all at once). */
  spreadSeconds: number;
  /** How many failed transfers still count as a pass (default 0). */
  maxFailed: number;
  /**
   * Seconds the bot holds each group call after its transfer (`botLegAfterTransfer: stay`), so that
   * transfers run to the end of the group call; 0: the bot leaves at once (the default policy).
   */
  holdGroupCallSeconds: number;
  /** keepAlive interval of every transfer and owner, in ms (HANDOFF_KEEP_ALIVE_INTERVAL_MS). */
  keepAliveMs: number;
  /**
   * Issue 13.2: run on a production-shaped cluster (src/cluster) instead of the dev server, with
   * webhook and worker processes behind a round-robin proxy (docs/soak.md, "On the cluster").
   */
  cluster: boolean;
  /** A running cluster's frontend (`127.0.0.1:7333`) instead of one the soak starts; implies cluster. */
  clusterAddress?: string;
  /** Cluster only: worker processes polling at once. */
  workers: number;
  /** Cluster only: SIGKILL + restart of a webhook process. */
  webhookKills: number;
  /** Cluster only: restarts of every Temporal service (needs a cluster the soak started). */
  temporalRestarts: number;
  /** Where the HTML report goes (git-ignored `.reports/` by default). */
  reportDir: string;
}

export const usage = `Usage: npm run soak -- [options]

  --transfers N     concurrent transfers (default 200)
  --kills N         SIGKILL + restart of the worker process at random moments (default 2)
  --drop R          share of notifications dropped, 0..1 (default 0.05)
  --duplicate R     share of notifications posted twice, 0..1 (default 0.1)
  --throttle R      share of Graph requests answered 429/503 + Retry-After 1-2 s, 0..1 (default 0.1)
  --delay MS        extra delay before each notification is posted, in ms (default 10)
  --webhooks N      webhook replicas the transfers are spread over (default 4; see docs/soak.md)
  --lost-responses N  the first N answers, N createCalls and N invites take effect but their
                    responses come after the client's 10 s timeout (default 0)
  --seed N          seed for the simulator's knobs and the soak's choices (default: random, printed)
  --timeout S       seconds for every transfer to close, from the first call placed (default 600)
  --spread S        seconds over which the calls are placed; 0 = all at once (default 5)
  --max-failed N    failed transfers tolerated before the exit code says failure (default 0)
  --hold-group-call S  the bot stays in each group call S seconds after its transfer (stay), so
                    transfers run to the end of the group call; 0 = it leaves at once (default 0)
  --keep-alive MS   keepAlive interval of transfers and owners (default 15 minutes; 2000 with
                    --hold-group-call)
  --report-dir DIR  where the HTML report is written (default .reports, git-ignored)

On the cluster (issue 13.2; docs/soak.md, "On the cluster"):
  --cluster         start a production-shaped Temporal cluster (PostgreSQL + 4 services, its own
                    data folder and free ports) and run webhook and worker processes against it,
                    the webhooks behind a round-robin proxy
  --cluster-address HOST:PORT  use a running cluster instead (no Temporal restart then)
  --workers N       worker processes polling at once (default 2)
  --webhooks N      webhook processes behind the proxy (default 2 with --cluster)
  --webhook-kills N SIGKILL + restart of a webhook process (default 2)
  --temporal-restarts N  restart of every Temporal service (default 1; 0 with --cluster-address)
  --help            this text

Exit code 0 only when every transfer started and closed before the deadline, no more than
--max-failed failed, and there were no duplicate Graph side effects, no orphaned group calls and
no completed transfer whose calls the simulator disagrees with.`;

export class SoakUsageError extends Error {
  override readonly name = 'SoakUsageError';
}

/** Parses argv (without node and script); throws SoakUsageError naming every bad option. */
export function parseSoakArgs(argv: string[]): SoakOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        transfers: { type: 'string' },
        kills: { type: 'string' },
        drop: { type: 'string' },
        duplicate: { type: 'string' },
        throttle: { type: 'string' },
        delay: { type: 'string' },
        webhooks: { type: 'string' },
        'lost-responses': { type: 'string' },
        seed: { type: 'string' },
        timeout: { type: 'string' },
        spread: { type: 'string' },
        'max-failed': { type: 'string' },
        'hold-group-call': { type: 'string' },
        'keep-alive': { type: 'string' },
        'report-dir': { type: 'string' },
        cluster: { type: 'boolean' },
        'cluster-address': { type: 'string' },
        workers: { type: 'string' },
        'webhook-kills': { type: 'string' },
        'temporal-restarts': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new SoakUsageError(`${(error as Error).message}\n\n${usage}`);
  }
  if (values.help) return 'help';

  const problems: string[] = [];
  const read = (name: string, fallback: number, check: (value: number) => string | undefined): number => {
    const text = values[name];
    if (typeof text !== 'string') return fallback;
    const value = Number(text);
    const problem = text.trim() === '' || !Number.isFinite(value) ? 'must be a number' : check(value);
    if (problem) problems.push(`--${name} ${problem}, got "${text}"`);
    return value;
  };
  const wholeAtLeast = (min: number) => (value: number) =>
    Number.isInteger(value) && value >= min ? undefined : `must be a whole number >= ${min}`;
  const share = (value: number) => (value >= 0 && value <= 1 ? undefined : 'must be a share between 0 and 1');
  const seconds = (min: number) => (value: number) =>
    value >= min ? undefined : `must be a number of seconds >= ${min}`;

  const clusterAddress =
    typeof values['cluster-address'] === 'string' ? values['cluster-address'] : undefined;
  if (clusterAddress !== undefined && !/^[^\s:]+:\d{1,5}$/.test(clusterAddress))
    problems.push(`--cluster-address must be HOST:PORT of the cluster's frontend, got "${clusterAddress}"`);
  const cluster = values.cluster === true || clusterAddress !== undefined;
  const options: SoakOptions = {
    transfers: read('transfers', 200, wholeAtLeast(1)),
    kills: read('kills', 2, wholeAtLeast(0)),
    drop: read('drop', 0.05, share),
    duplicate: read('duplicate', 0.1, share),
    throttle: read('throttle', 0.1, share),
    delayMs: read('delay', 10, wholeAtLeast(0)),
    webhooks: read('webhooks', cluster ? 2 : 4, wholeAtLeast(1)),
    lostResponses: read('lost-responses', 0, wholeAtLeast(0)),
    seed: read('seed', Date.now() % 2 ** 31, wholeAtLeast(0)),
    timeoutSeconds: read('timeout', 600, seconds(10)),
    spreadSeconds: read('spread', 5, seconds(0)),
    maxFailed: read('max-failed', 0, wholeAtLeast(0)),
    holdGroupCallSeconds: read('hold-group-call', 0, wholeAtLeast(0)),
    keepAliveMs: 0,
    cluster,
    ...(clusterAddress !== undefined ? { clusterAddress } : {}),
    workers: read('workers', cluster ? 2 : 1, wholeAtLeast(1)),
    webhookKills: read('webhook-kills', cluster ? 2 : 0, wholeAtLeast(0)),
    temporalRestarts: read(
      'temporal-restarts',
      cluster && clusterAddress === undefined ? 1 : 0,
      wholeAtLeast(0),
    ),
    reportDir: typeof values['report-dir'] === 'string' ? values['report-dir'] : '.reports',
  };
  if (!cluster) {
    for (const name of ['workers', 'webhook-kills', 'temporal-restarts'])
      if (values[name] !== undefined)
        problems.push(`--${name} needs --cluster (the dev-server soak runs one worker)`);
  }
  if (clusterAddress !== undefined && options.temporalRestarts > 0)
    problems.push(
      '--temporal-restarts needs a cluster the soak started (--cluster without --cluster-address): it cannot restart one it does not own',
    );
  if (options.reportDir.trim() === '') problems.push('--report-dir must name a folder');
  options.keepAliveMs = read(
    'keep-alive',
    options.holdGroupCallSeconds > 0 ? 2_000 : 15 * 60 * 1000,
    (value) =>
      Number.isInteger(value) && value >= 1_000 && value <= 1_800_000
        ? undefined
        : 'must be 1000..1800000 ms',
  );
  if (problems.length > 0) throw new SoakUsageError(`${problems.join('\n')}\n\n${usage}`);
  return options;
}
