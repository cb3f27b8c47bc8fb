import type { HandoffConfig } from '../config/env.js';
import { createMsalTokenProvider } from '../graph/auth.js';
import { createGraphClient, type GraphClient } from '../graph/index.js';
import { tracedFetch } from '../tracing/graph-fetch.js';
import type { Tracing } from '../tracing/tracing.js';
import { meteredFetch } from '../worker/graph-metrics.js';
import type { WorkerMetrics } from '../worker/metrics.js';
import type { SimulatorConnection } from './simulator-connection.js';

/**
 * The `fetch` Graph requests go through: a span around each (tracing) counted by the metrics; plain
 * `fetch` (undefined) when neither is on.
 */
export function graphFetchFor(
  tracing: Tracing | undefined,
  metrics: WorkerMetrics | undefined,
): typeof fetch | undefined {
  const traced = tracing ? tracedFetch(tracing.tracer) : undefined;
  return metrics ? meteredFetch(metrics, traced) : traced;
}

/**
 * The Graph client for this deployment: real Microsoft Graph with the tenant's credentials, or
 * (embedded mode) the simulator, reached through MSAL's own configuration (design.md, "Known
 * traps": an https authority in knownAuthorities plus authorityMetadata).
 */
export function graphClientFor(
  config: HandoffConfig,
  simulator?: SimulatorConnection,
  /** The fetch Graph requests go through: the worker's metered one (src/worker/graph-metrics.ts). */
  graphFetch?: typeof fetch,
): GraphClient {
  const fetchOption = graphFetch ? { fetch: graphFetch } : {};
  if (config.tenant) {
    const { tenant } = config;
    return createGraphClient({
      ...fetchOption,
      baseUrl: tenant.graphBaseUrl,
      tokenProvider: createMsalTokenProvider({
        tenantId: tenant.tenantId,
        clientId: tenant.clientId,
        ...(tenant.clientSecret !== undefined ? { clientSecret: tenant.clientSecret } : {}),
        ...(tenant.certificate !== undefined ? { certificate: tenant.certificate } : {}),
        authorityHost: tenant.cloud.authorityHost,
        ...(tenant.authority
          ? {
              authority: tenant.authority.url,
              // A known authority is trusted as it is: MSAL asks Microsoft no instance discovery about it.
              knownAuthorities: [tenant.authority.host],
              ...(tenant.authority.metadataUrl ? { authorityMetadataUrl: tenant.authority.metadataUrl } : {}),
            }
          : {}),
        graphResource: tenant.cloud.graphEndpoint,
      }),
    });
  }
  if (!simulator)
    throw new Error(
      'No tenant is configured and no simulator is running: set GRAPH_TENANT_ID etc. (README, "Configuration")',
    );
  return createGraphClient({
    ...fetchOption,
    baseUrl: simulator.graphBaseUrl,
    tokenProvider: createMsalTokenProvider({
      tenantId: simulator.tenantId,
      clientId: simulator.clientId,
      clientSecret: simulator.clientSecret,
      authority: simulator.msal.authority,
      knownAuthorities: simulator.msal.knownAuthorities,
      authorityMetadata: simulator.msal.authorityMetadata,
    }),
  });
}
