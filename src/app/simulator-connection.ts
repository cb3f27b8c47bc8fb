/**
 * For processes that run apart from the simulator (docker-compose's worker and webhook, the
 * worker process the restart tests kill): what they need to reach a running simulator, read
 * from its admin endpoint.
 */
import type { SimulatorConnection } from '../simulator/index.js';

export type { SimulatorConnection };

export async function connectToSimulator(url: string, attempts = 30): Promise<SimulatorConnection> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    try {
      const response = await fetch(`${url.replace(/\/+$/, '')}/_simulator/connection`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (response.ok) return (await response.json()) as SimulatorConnection;
      lastError = new Error(`answered ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  throw new Error(`Cannot reach the Graph simulator at ${url} (SIMULATOR_URL): ${String(lastError)}`);
}
