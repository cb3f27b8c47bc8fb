/**
 * Client connections to Temporal from the settings in src/config: plain on a local dev server, TLS
 * (optionally mutual) or an API key for a cluster or Temporal Cloud (design.md, "Beyond one
 * machine"). A worker's connection is in worker-connection.ts: @temporalio/worker and its native
 * module are ~15 MB of RSS that a webhook process, which only needs a client, must not load.
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientInterceptors, Connection, type TLSConfig } from '@temporalio/client';
import type { TemporalSettings } from '../config/env.js';

function tlsOptions(settings: TemporalSettings): TLSConfig | true | undefined {
  if (!settings.tls) return undefined;
  const { clientCertPath, clientKeyPath } = settings.tls;
  if (clientCertPath && clientKeyPath) {
    return { clientCertPair: { crt: readFileSync(clientCertPath), key: readFileSync(clientKeyPath) } };
  }
  return true;
}

/** What a client's and a worker's connection share: the address, TLS and the API key. */
export function connectionOptions(
  settings: TemporalSettings,
  address: string,
): { address: string; tls?: TLSConfig | true; apiKey?: string } {
  const tls = tlsOptions(settings);
  return {
    address,
    ...(tls !== undefined ? { tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  };
}

/** A connect attempt that found no server in time is retried this often before giving up. */
const CONNECT_ATTEMPTS = 3;

export async function connectClient(
  settings: TemporalSettings,
  address: string,
  /** e.g. tracing's (src/tracing/temporal.ts): they see every start and signal the client sends. */
  interceptors?: ClientInterceptors,
): Promise<Client> {
  const options = connectionOptions(settings, address);
  for (let attempt = 1; ; attempt++) {
    try {
      const connection = await Connection.connect(options);
      return new Client({
        connection,
        namespace: settings.namespace,
        ...(interceptors ? { interceptors } : {}),
      });
    } catch (error) {
      // A server that is up but starved of CPU (a loaded 2-core machine, a cluster restarting) can
      // miss one 10 s connect deadline; only that error is worth another try.
      if (attempt >= CONNECT_ATTEMPTS || !/Failed to connect before the deadline/.test(String(error))) {
        throw error;
      }
    }
  }
}
