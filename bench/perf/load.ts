/** Closed-loop load: `total` requests, `inFlight` at a time, each timed. */

export interface LoadResult {
  latenciesMs: number[];
  wallMs: number;
  /** The first few failures, as messages; the run still counts every request. */
  errors: string[];
  failed: number;
}

export async function runClosedLoop(
  total: number,
  inFlight: number,
  send: (index: number) => Promise<void>,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const lanes = Array.from({ length: Math.min(inFlight, total) }, async () => {
    while (next < total) {
      const index = next++;
      const at = performance.now();
      try {
        await send(index);
        latenciesMs.push(performance.now() - at);
      } catch (error) {
        failed += 1;
        if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
      }
    }
  });
  await Promise.all(lanes);
  return { latenciesMs, wallMs: performance.now() - started, errors, failed };
}

/** POSTs JSON and throws unless the answer has `status`. */
export async function postExpecting(
  url: string,
  body: unknown,
  status: number,
  headers: Record<string, string> = {},
): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== status) {
    throw new Error(
      `POST ${new URL(url).pathname} answered ${response.status}, not ${status}: ${text.slice(0, 200)}`,
    );
  }
}
