/**
 * Connections to Temporal from the settings in src/config: plain on a local dev server, TLS
 * (optionally mutual) or an API key for a cluster or Temporal Cloud (design.md, "Beyond one
 * machine").
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientInterceptors, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalSettings } from '../config/env.js';

function tlsOptions(settings: TemporalSettings) {
  if (!settings.tls) return undefined;
  const { clientCertPath, clientKeyPath } = settings.tls;
  if (clientCertPath && clientKeyPath) {
    return { clientCertPair: { crt: readFileSync(clientCertPath), key: readFileSync(clientKeyPath) } };
  }
  return true;
}

/** A connect attempt that found no server in time is retried this often before giving up. */
const CONNECT_ATTEMPTS = 3;

export async function connectClient(
  settings: TemporalSettings,
  address: string,
  /** e.g. tracing's (src/tracing/temporal.ts): they see every start and signal the client sends. */
  interceptors?: ClientInterceptors,
): Promise<Client> {
  const tls = tlsOptions(settings);
  for (let attempt = 1; ; attempt++) {
    try {
      const connection = await Connection.connect({
        address,
        ...(tls !== undefined ? { tls } : {}),
        ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
      });
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

export async function connectWorker(settings: TemporalSettings, address: string): Promise<NativeConnection> {
  const tls = tlsOptions(settings);
  return NativeConnection.connect({
    address,
    ...(tls !== undefined ? { tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  });
}
