/**
 * What a worker or a webhook that runs on its own (docker-compose, the worker-restart tests)
 * needs before it starts: the configuration, a Temporal cluster to join (`npm start` embeds one,
 * a lone process cannot), and Graph — a tenant, or a simulator running elsewhere.
 */
import { ConfigError, type HandoffConfig, loadConfig } from '../config/env.js';
import { connectToSimulator, type SimulatorConnection } from './simulator-connection.js';

export interface StandaloneSetup {
  config: HandoffConfig;
  temporalAddress: string;
  /** Set in embedded mode: the simulator at SIMULATOR_URL. */
  simulator?: SimulatorConnection;
}

export async function prepareStandalone(role: 'worker' | 'webhook'): Promise<StandaloneSetup> {
  const config = loadConfig();
  const problems: string[] = [];
  if (config.temporal.address === undefined) {
    problems.push(
      `TEMPORAL_ADDRESS is required for a ${role} that runs on its own (npm start embeds a server)`,
    );
  }
  if (config.mode === 'embedded' && config.simulator.url === undefined) {
    problems.push(
      `SIMULATOR_URL or a tenant (GRAPH_TENANT_ID, …) is required for a ${role} that runs on its own`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const simulator =
    config.simulator.url && config.mode === 'embedded'
      ? await connectToSimulator(config.simulator.url)
      : undefined;
  return { config, temporalAddress: config.temporal.address!, ...(simulator ? { simulator } : {}) };
}
