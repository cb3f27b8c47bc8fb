/** The soak's numbers and the text it prints. Pure: everything comes in as data. */
import type { DeliveryRecord, DroppedNotification, RequestRecord } from '../../src/simulator/index.js';
import type {
  DuplicateSideEffect,
  Inconsistency,
  OrphanedGroupCall,
  TransferOutcome,
  UnownedCall,
} from './audit.js';
import type { HistoryFallout } from './histories.js';
import type { LostNotifications } from './lost-notifications.js';
import type { UsageReport } from './monitor.js';
import type { SoakOptions } from './options.js';
import type { Disruption, GraphSideOutage } from './outages.js';

/** Issue 13.2: the cluster soak's own findings. */
export interface ClusterSoakReport {
  /** The frontend's address. */
  address: string;
  /** False for a cluster given with --cluster-address. */
  startedBySoak: boolean;
  workers: number;
  webhooks: number;
  disruptions: Disruption[];
  outages: GraphSideOutage[];
  /** Workflows with fewer `graphNotifications` signals than 202s the webhooks gave for them. */
  lostNotifications: LostNotifications[];
  /** 202s, per signalled workflow, summed. */
  acknowledgedSignals: number;
  /** `graphNotifications` signals in those workflows' histories, summed. */
  signalsInHistories: number;
  /** The round-robin proxy: POSTs, those a refused connection handed to another webhook, by status. */
  proxy: { requests: number; handedOver: number; byStatus: Record<string, number> };
}

export interface WorkerKill {
  /** 1-based. */
  number: number;
  /** Seconds since the first call was placed. */
  atSeconds: number;
  killedPid: number;
  killedWorker: string;
  /** Transfers not yet closed at the moment of the kill. */
  openTransfers: number;
  /** Transfers closed (or refused) before the kill. */
  closedTransfers: number;
  /** The worker that took over, and when it polled its task queue. */
  nextWorker: string;
  nextPid: number;
  nextReadyAtSeconds: number;
}

export interface SoakSummary {
  date: string;
  options: SoakOptions;
  machine: string;
  requested: number;
  started: number;
  completed: number;
  failed: number;
  stillRunning: number;
  notStarted: number;
  other: number;
  failedByReason: Array<{ reason: string; count: number; example: string }>;
  notStartedByReason: Array<{ reason: string; count: number; example: string }>;
  fallout: HistoryFallout;
  duplicates: DuplicateSideEffect[];
  /** Of those, twin group calls forced by injected lost responses and hung up since (isCompensatedTwin). */
  compensatedTwins: number;
  /** One line per duplicate, with what became of an extra group call. */
  duplicateDetails: string[];
  orphans: OrphanedGroupCall[];
  inconsistencies: Inconsistency[];
  /** Issue 10: live calls reporting to no running workflow. */
  callsWithoutOwner: UnownedCall[];
  /** Issue 10: live established calls whose keep-alive lapsed (Graph's 45 minutes). */
  lapsedKeepAlives: UnownedCall[];
  /** Issue 10.3: P2P calls left live after their transfer failed. */
  silentCallers: UnownedCall[];
  running: Array<{ workflowId: string; phase?: string }>;
  kills: WorkerKill[];
  killsSkipped: number;
  durations: { p50: number; p95: number; max: number; min: number } | undefined;
  peakConcurrent: number;
  placementSeconds: number;
  wallSeconds: number;
  graph: GraphRequestStats;
  notifications: NotificationStats;
  usage: UsageReport;
  /** Set by `--cluster`. */
  cluster?: ClusterSoakReport;
  pass: boolean;
  problems: string[];
}

export interface GraphRequestStats {
  byKind: Array<{ kind: string; total: number; ok: number; throttled: number; otherErrors: number }>;
  total: number;
  throttled: number;
  /** Shortest wait between a throttled answer and the next attempt of the same request, in ms. */
  shortestRetryAfterThrottleMs?: number;
  /** Retries of a throttled request sent sooner than 1 s (the smallest Retry-After the soak sends). */
  retriesBeforeRetryAfter: number;
}

export interface NotificationStats {
  posted: number;
  duplicateCopies: number;
  dropped: number;
  droppedByKind: Record<string, number>;
  /** POST attempts the webhook answered other than 2xx, or that failed, by status. */
  refusedByStatus: Record<string, number>;
  /** Notifications never delivered although posted (every attempt failed). */
  undelivered: number;
  /**
   * From an answer, createCall or invite Graph carried out to the first POST of the notification
   * it caused (establishing/established, or the operation's): how late news reaches the webhook.
   */
  lagMs?: { samples: number; p50: number; p95: number; max: number };
  /** POST attempts per second from the first to the last: the simulator posts them one at a time. */
  postsPerSecond?: number;
}

/** The value below which `share` of the sorted values lie (nearest rank). */
export function percentile(sortedValues: readonly number[], share: number): number {
  if (sortedValues.length === 0) return Number.NaN;
  const rank = Math.ceil(share * sortedValues.length);
  return sortedValues[Math.min(sortedValues.length - 1, Math.max(0, rank - 1))] as number;
}

/** A reason with ids and numbers of milliseconds taken out, so that equal causes group together. */
export function reasonKey(reason: string): string {
  return reason
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/transfer-<id>/g, '<workflow>')
    .replace(/\b\d+ ms\b/g, '<n> ms');
}

export function groupReasons(
  outcomes: readonly TransferOutcome[],
): Array<{ reason: string; count: number; example: string }> {
  const groups = new Map<string, { reason: string; count: number; example: string }>();
  for (const outcome of outcomes) {
    const reason = outcome.reason ?? '(no reason given)';
    const key = reasonKey(reason);
    const group = groups.get(key) ?? { reason: key, count: 0, example: `${outcome.workflowId}: ${reason}` };
    group.count += 1;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

/** The most transfers open at one moment, from Temporal's start and close times. */
export function peakConcurrency(outcomes: readonly TransferOutcome[], endOfRun: Date): number {
  const edges: Array<[number, number]> = [];
  for (const outcome of outcomes) {
    if (!outcome.startedAt) continue;
    edges.push([outcome.startedAt.getTime(), 1]);
    edges.push([(outcome.closedAt ?? endOfRun).getTime(), -1]);
  }
  // A close and a start at the same millisecond: close first, so touching intervals do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, change] of edges) {
    open += change;
    peak = Math.max(peak, open);
  }
  return peak;
}

function requestKind(request: RequestRecord): string {
  const path = request.path;
  if (request.method === 'POST' && /\/answer$/i.test(path)) return 'answer';
  if (request.method === 'POST' && /\/participants\/invite$/i.test(path)) return 'invite';
  if (request.method === 'POST' && /\/keepAlive$/i.test(path)) return 'keepAlive';
  if (request.method === 'POST' && /\/calls$/i.test(path)) return 'createCall';
  if (request.method === 'DELETE') return 'hangUp';
  if (request.method === 'GET' && /\/operations\//i.test(path)) return 'getOperation';
  if (request.method === 'GET') return 'getCall';
  return `${request.method} other`;
}

/** The same request again: same method and path, and for createCall the same callbackUri. */
function requestIdentity(request: RequestRecord): string {
  const callback = (request.body as { callbackUri?: unknown } | undefined)?.callbackUri;
  return `${request.method} ${request.path.toLowerCase()} ${typeof callback === 'string' ? callback : ''}`;
}

export function graphRequestStats(requests: readonly RequestRecord[]): GraphRequestStats {
  const kinds = new Map<
    string,
    { kind: string; total: number; ok: number; throttled: number; otherErrors: number }
  >();
  const lastThrottled = new Map<string, number>();
  let shortest: number | undefined;
  let early = 0;
  const ordered = [...requests].sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const request of ordered) {
    const kind = requestKind(request);
    const stats = kinds.get(kind) ?? { kind, total: 0, ok: 0, throttled: 0, otherErrors: 0 };
    stats.total += 1;
    const throttled = request.status === 429 || request.status === 503;
    if (request.status >= 200 && request.status < 300) stats.ok += 1;
    else if (throttled) stats.throttled += 1;
    else stats.otherErrors += 1;
    kinds.set(kind, stats);

    const identity = requestIdentity(request);
    const throttledAt = lastThrottled.get(identity);
    if (throttledAt !== undefined) {
      const gap = request.at.getTime() - throttledAt;
      shortest = shortest === undefined ? gap : Math.min(shortest, gap);
      if (gap < 1_000) early += 1;
      lastThrottled.delete(identity);
    }
    if (throttled) lastThrottled.set(identity, request.at.getTime());
  }
  const byKind = [...kinds.values()].sort((a, b) => b.total - a.total);
  return {
    byKind,
    total: requests.length,
    throttled: byKind.reduce((sum, stats) => sum + stats.throttled, 0),
    ...(shortest !== undefined ? { shortestRetryAfterThrottleMs: shortest } : {}),
    retriesBeforeRetryAfter: early,
  };
}

/** The notifications a carried-out request causes, and the call they are about. */
function causedNotifications(request: RequestRecord): { callId: string; kinds: string[] } | undefined {
  if (request.method !== 'POST' || request.status < 200 || request.status >= 300) return undefined;
  const answer = /\/calls\/([^/]+)\/answer$/i.exec(request.path);
  if (answer?.[1]) return { callId: answer[1], kinds: ['establishing', 'established'] };
  const invite = /\/calls\/([^/]+)\/participants\/invite$/i.exec(request.path);
  if (invite?.[1]) return { callId: invite[1], kinds: ['operation'] };
  const created = (request.response as { id?: unknown } | undefined)?.id;
  if (/\/calls$/i.test(request.path) && typeof created === 'string') {
    return { callId: created, kinds: ['establishing', 'established', 'roster'] };
  }
  return undefined;
}

export function notificationLag(
  requests: readonly RequestRecord[],
  deliveries: readonly DeliveryRecord[],
): NotificationStats['lagMs'] {
  const byCall = new Map<string, DeliveryRecord[]>();
  for (const delivery of deliveries) {
    const key = delivery.callId.toLowerCase();
    const forCall = byCall.get(key) ?? [];
    forCall.push(delivery);
    byCall.set(key, forCall);
  }
  const lags: number[] = [];
  for (const request of requests) {
    const caused = causedNotifications(request);
    if (!caused) continue;
    const first = (byCall.get(caused.callId.toLowerCase()) ?? [])
      .filter((delivery) => caused.kinds.includes(delivery.kind) && delivery.at >= request.at)
      .reduce<number | undefined>(
        (earliest, delivery) =>
          earliest === undefined ? delivery.at.getTime() : Math.min(earliest, delivery.at.getTime()),
        undefined,
      );
    if (first !== undefined) lags.push(first - request.at.getTime());
  }
  if (lags.length === 0) return undefined;
  lags.sort((a, b) => a - b);
  return {
    samples: lags.length,
    p50: percentile(lags, 0.5),
    p95: percentile(lags, 0.95),
    max: lags.at(-1) as number,
  };
}

export function notificationStats(
  requests: readonly RequestRecord[],
  deliveries: readonly DeliveryRecord[],
  dropped: readonly DroppedNotification[],
): NotificationStats {
  const lagMs = notificationLag(requests, deliveries);
  const refusedByStatus: Record<string, number> = {};
  const delivered = new Set<string>();
  const attempted = new Set<string>();
  let posted = 0;
  let duplicateCopies = 0;
  for (const delivery of deliveries) {
    const copy = `${delivery.sequence}:${delivery.duplicate}`;
    if (delivery.attempt === 1) {
      posted += 1;
      if (delivery.duplicate) duplicateCopies += 1;
    }
    attempted.add(copy);
    const ok = delivery.status !== undefined && delivery.status < 300;
    if (ok) delivered.add(copy);
    else {
      const key = delivery.status !== undefined ? String(delivery.status) : (delivery.error ?? 'error');
      refusedByStatus[key] = (refusedByStatus[key] ?? 0) + 1;
    }
  }
  const droppedByKind: Record<string, number> = {};
  for (const notification of dropped) {
    droppedByKind[notification.kind] = (droppedByKind[notification.kind] ?? 0) + 1;
  }
  const times = deliveries.map((delivery) => delivery.at.getTime());
  const span = times.length > 1 ? (Math.max(...times) - Math.min(...times)) / 1000 : 0;
  return {
    ...(span > 0 ? { postsPerSecond: deliveries.length / span } : {}),
    posted,
    duplicateCopies,
    dropped: dropped.length,
    droppedByKind,
    refusedByStatus,
    undelivered: [...attempted].filter((copy) => !delivered.has(copy)).length,
    ...(lagMs ? { lagMs } : {}),
  };
}

const seconds = (value: number) => `${value.toFixed(1)} s`;

export function formatSummary(summary: SoakSummary): string {
  const { options } = summary;
  const lines: string[] = [];
  const add = (line = '') => lines.push(line);
  add(`Handoff soak, ${summary.date} on ${summary.machine}`);
  add(
    `options: --transfers ${options.transfers} --kills ${options.kills} --drop ${options.drop} --duplicate ${options.duplicate} --throttle ${options.throttle} --delay ${options.delayMs} --webhooks ${options.webhooks} --lost-responses ${options.lostResponses} --seed ${options.seed} --timeout ${options.timeoutSeconds} --spread ${options.spreadSeconds}`,
  );
  add(
    `         reordering on, throttled answers 429/503 with Retry-After 1-2 s; calls placed over ${seconds(summary.placementSeconds)}`,
  );
  add();
  add(
    `transfers started:    ${summary.started} of ${summary.requested} (peak ${summary.peakConcurrent} open at once)`,
  );
  add(`completed:            ${summary.completed}`);
  add(`failed:               ${summary.failed}`);
  for (const group of summary.failedByReason)
    add(`  ${group.count} x ${group.reason}\n      e.g. ${group.example}`);
  if (summary.other > 0) add(`cancelled/terminated/timed out: ${summary.other}`);
  add(`still running at the deadline: ${summary.stillRunning}`);
  for (const running of summary.running.slice(0, 10))
    add(`  ${running.workflowId} (phase ${running.phase ?? 'unknown'})`);
  if (summary.notStarted > 0) {
    add(`not started:          ${summary.notStarted}`);
    for (const group of summary.notStartedByReason) add(`  ${group.count} x ${group.reason}`);
  }
  add();
  add(
    `duplicate Graph side effects: ${summary.duplicates.length}` +
      (summary.compensatedTwins > 0
        ? ` (${summary.compensatedTwins} twin group calls forced by lost responses, all hung up since)`
        : ''),
  );
  for (const line of summary.duplicateDetails.slice(0, 20)) add(`  ${line}`);
  add(`orphaned group calls:         ${summary.orphans.length}`);
  for (const orphan of summary.orphans.slice(0, 20))
    add(`  ${orphan.callId} (${orphan.state}): ${orphan.why}`);
  add(`completed transfers Graph disagrees with: ${summary.inconsistencies.length}`);
  for (const problem of summary.inconsistencies.slice(0, 20))
    add(`  ${problem.workflowId}: ${problem.problem}`);
  for (const [title, found] of [
    ['calls left open with no running owner', summary.callsWithoutOwner],
    ['calls whose keep-alive lapsed', summary.lapsedKeepAlives],
    ['P2P calls left silent after a failed transfer', summary.silentCallers],
  ] as const) {
    add(`${title}: ${found.length}`);
    for (const call of found.slice(0, 20)) add(`  ${call.callId} (${call.kind}, ${call.state}): ${call.why}`);
  }
  add();
  add(`worker kills (SIGKILL, then a new worker process):`);
  for (const kill of summary.kills) {
    add(
      `  #${kill.number} at ${seconds(kill.atSeconds)}: ${kill.killedWorker} (pid ${kill.killedPid}) with ${kill.openTransfers} transfers open, ${kill.closedTransfers} closed; ${kill.nextWorker} (pid ${kill.nextPid}) polling at ${seconds(kill.nextReadyAtSeconds)}`,
    );
  }
  const { fallout } = summary;
  const counts = (record: Record<string, number>) =>
    Object.entries(record)
      .map(([name, count]) => `${name} ${count}`)
      .join(', ') || 'none';
  add(
    `  in the ${fallout.histories} histories: ${fallout.transfersHit} transfers lost work with a killed worker; activity attempts timed out: ${counts(fallout.activityTimeouts)}; workflow tasks timed out: ${fallout.workflowTaskTimeouts}`,
  );
  add(
    `  sent again after a throttled or unanswered attempt: ${counts(fallout.resends)}; calls or operations read from Graph (a wait timed out, or an outcome was unknown): ${fallout.graphReads}`,
  );
  if (summary.killsSkipped > 0)
    add(
      `  ${summary.killsSkipped} ${summary.cluster ? 'disruption(s)' : 'kill(s)'} not done: every transfer had closed already`,
    );
  add();
  if (summary.durations) {
    const { p50, p95, max, min } = summary.durations;
    add(
      `transfer duration (Temporal start to close): min ${seconds(min)}, p50 ${seconds(p50)}, p95 ${seconds(p95)}, max ${seconds(max)}`,
    );
  }
  add(`wall time: ${seconds(summary.wallSeconds)} from the first call placed to the last transfer closed`);
  add();
  const graph = summary.graph;
  add(`Graph requests: ${graph.total}, throttled ${graph.throttled}`);
  for (const stats of graph.byKind) {
    add(
      `  ${stats.kind.padEnd(13)} ${String(stats.total).padStart(5)} sent, ${String(stats.ok).padStart(5)} ok, ${String(stats.throttled).padStart(4)} throttled, ${String(stats.otherErrors).padStart(4)} refused otherwise`,
    );
  }
  add(
    `  retries of a throttled request sooner than 1 s: ${graph.retriesBeforeRetryAfter} (shortest gap ${graph.shortestRetryAfterThrottleMs ?? '-'} ms)`,
  );
  const notes = summary.notifications;
  add(
    `notifications: ${notes.posted} posted (${notes.duplicateCopies} duplicate copies), ${notes.dropped} dropped (${Object.entries(
      notes.droppedByKind,
    )
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ')}), ${notes.undelivered} never accepted by the webhook`,
  );
  if (notes.postsPerSecond !== undefined)
    add(
      `  notification POSTs to the webhooks: ${notes.postsPerSecond.toFixed(1)} per second (${summary.cluster ? 'a lane per transfer' : 'one at a time per webhook'})`,
    );
  if (notes.lagMs) {
    const lag = notes.lagMs;
    add(
      `  lag from a Graph request to the first notification it caused: p50 ${seconds(lag.p50 / 1000)}, p95 ${seconds(lag.p95 / 1000)}, max ${seconds(lag.max / 1000)} (${lag.samples} requests)`,
    );
  }
  const refused = Object.entries(notes.refusedByStatus);
  if (refused.length > 0)
    add(
      `  webhook answers other than 2xx: ${refused.map(([status, count]) => `${status} x ${count}`).join(', ')}`,
    );
  add();
  if (summary.cluster) {
    for (const line of formatClusterReport(summary.cluster)) add(line);
    add();
  }
  add(`machine load: peak 1-min load average ${summary.usage.peakLoad1.toFixed(2)}`);
  for (const usage of summary.usage.processes) {
    add(
      `  ${usage.name.padEnd(28)} peak RSS ${usage.peakRssMb.toFixed(0).padStart(5)} MB, CPU ${usage.cpuSeconds.toFixed(1)} s`,
    );
  }
  add();
  add(
    summary.pass
      ? 'RESULT: PASS'
      : `RESULT: FAIL\n${summary.problems.map((problem) => `  - ${problem}`).join('\n')}`,
  );
  return lines.join('\n');
}

/** The cluster soak's section of the text output. */
export function formatClusterReport(report: ClusterSoakReport): string[] {
  const lines: string[] = [];
  const add = (line = '') => lines.push(line);
  add(
    `cluster: frontend ${report.address} (${report.startedBySoak ? 'started by the soak' : 'given'}), ${report.workers} worker and ${report.webhooks} webhook processes behind a round-robin proxy`,
  );
  add(
    `notifications lost (202 given, no signal in the workflow's history): ${report.lostNotifications.length} workflows`,
  );
  add(
    `  202s that signalled a workflow: ${report.acknowledgedSignals}; graphNotifications signals in those histories: ${report.signalsInHistories}`,
  );
  for (const lost of report.lostNotifications.slice(0, 20))
    add(`  ${lost.workflowId}: ${lost.acknowledged} acknowledged, ${lost.signalled} signalled`);
  const byStatus = Object.entries(report.proxy.byStatus)
    .map(([status, count]) => `${status} x ${count}`)
    .join(', ');
  add(
    `proxy: ${report.proxy.requests} POSTs (${byStatus || 'none'}); ${report.proxy.handedOver} handed to another webhook after a refused connection`,
  );
  add('disruptions, and what Graph saw of each (failed notification POSTs, retries, time to recovery):');
  for (const disruption of report.disruptions) {
    const outage = report.outages.find((candidate) => candidate.disruption === disruption.number);
    const failures = Object.entries(outage?.failedByStatus ?? {})
      .map(([status, count]) => `${status} x ${count}`)
      .join(', ');
    add(
      `  #${disruption.number} at ${seconds(disruption.atSeconds)} (${disruption.openTransfers} open, ${disruption.closedTransfers} closed): ${disruption.description}; back at ${seconds(disruption.backAtSeconds)}`,
    );
    add(
      outage && outage.failed > 0
        ? `      Graph: ${outage.failed} failed POSTs (${failures}), ${outage.retries} retries, recovered ${seconds(outage.outageSeconds)} after the disruption`
        : `      Graph: no failed POST (${outage?.retries ?? 0} retries in the window)`,
    );
  }
  return lines;
}
