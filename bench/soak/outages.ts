/**
 * What each disruption of the cluster soak (a worker or webhook SIGKILLed, the Temporal services
 * restarted) looked like from Graph's side: the notification POSTs that failed (503 from a webhook
 * that could not reach Temporal, 502 from the balancer when a webhook died mid-request, network
 * errors), the retries Graph made, and how long until its POSTs went through again.
 */
import type { DeliveryRecord } from '../../src/simulator/index.js';

export type DisruptionKind = 'worker' | 'webhook' | 'temporal';

export interface Disruption {
  /** 1-based, in the order they happened. */
  number: number;
  kind: DisruptionKind;
  /** e.g. `SIGKILL worker-2 (pid 123), worker-4 took over`. */
  description: string;
  /** Seconds since the first call was placed. */
  atSeconds: number;
  /** When the replacement polled, listened or served again. */
  backAtSeconds: number;
  openTransfers: number;
  closedTransfers: number;
}

export interface GraphSideOutage {
  disruption: number;
  kind: DisruptionKind;
  atSeconds: number;
  /** POST attempts that failed in the window, by status (`503`, `502`) or `network error`. */
  failedByStatus: Record<string, number>;
  failed: number;
  /** POST attempts in the window that were retries (attempt > 1). */
  retries: number;
  /** The first POST that succeeded after the window's last failure (seconds since start). */
  recoveredAtSeconds?: number;
  /** From the disruption to that POST; 0 when Graph saw no failure at all. */
  outageSeconds: number;
}

/** How long after the replacement is back failures still count towards a disruption. */
export const OUTAGE_TAIL_SECONDS = 30;
/**
 * A failed POST that started up to this long before the disruption was in flight when it hit (the
 * simulator gives a POST 5 s, as Graph does): a record carries the moment its POST started.
 */
export const IN_FLIGHT_SECONDS = 5;

function failureKey(record: DeliveryRecord): string | undefined {
  if (record.error !== undefined) return 'network error';
  if (record.status !== undefined && record.status >= 500) return String(record.status);
  return undefined;
}

/**
 * One entry per disruption. A disruption's window runs from its moment to OUTAGE_TAIL_SECONDS after
 * its replacement was back, or to the next disruption, whichever comes first; failures of POSTs in
 * flight when it hit (started up to IN_FLIGHT_SECONDS before, after the previous disruption) count
 * too. `deliveries` are the
 * POSTs to the webhooks (not to the bot's own receiver), `t0` the soak's start.
 */
export function graphSideOutages(
  disruptions: readonly Disruption[],
  deliveries: readonly DeliveryRecord[],
  t0: Date,
): GraphSideOutage[] {
  const seconds = (record: DeliveryRecord) => (record.at.getTime() - t0.getTime()) / 1000;
  const sorted = [...deliveries].sort((a, b) => a.at.getTime() - b.at.getTime());
  const ordered = [...disruptions].sort((a, b) => a.atSeconds - b.atSeconds);
  return ordered.map((disruption, index) => {
    const next = ordered[index + 1]?.atSeconds ?? Number.POSITIVE_INFINITY;
    const previous = ordered[index - 1]?.atSeconds ?? Number.NEGATIVE_INFINITY;
    const end = Math.min(next, disruption.backAtSeconds + OUTAGE_TAIL_SECONDS);
    const inFlightFrom = Math.max(previous, disruption.atSeconds - IN_FLIGHT_SECONDS);
    const inWindow = sorted.filter((record) => {
      const at = seconds(record);
      return at >= disruption.atSeconds && at <= end;
    });
    const failures = sorted.filter((record) => {
      const at = seconds(record);
      return at >= inFlightFrom && at <= end && failureKey(record) !== undefined;
    });
    const failedByStatus: Record<string, number> = {};
    let lastFailure: number | undefined;
    for (const record of failures) {
      const key = failureKey(record);
      if (!key) continue;
      failedByStatus[key] = (failedByStatus[key] ?? 0) + 1;
      lastFailure = seconds(record);
    }
    const failed = Object.values(failedByStatus).reduce((total, count) => total + count, 0);
    const outage: GraphSideOutage = {
      disruption: disruption.number,
      kind: disruption.kind,
      atSeconds: disruption.atSeconds,
      failedByStatus,
      failed,
      retries: inWindow.filter((record) => record.attempt > 1).length,
      outageSeconds: 0,
    };
    if (lastFailure !== undefined) {
      const recovered = sorted.find(
        (record) => seconds(record) > (lastFailure as number) && failureKey(record) === undefined,
      );
      if (recovered) {
        outage.recoveredAtSeconds = seconds(recovered);
        outage.outageSeconds = outage.recoveredAtSeconds - disruption.atSeconds;
      } else {
        outage.outageSeconds = (lastFailure as number) - disruption.atSeconds;
      }
    }
    return outage;
  });
}
