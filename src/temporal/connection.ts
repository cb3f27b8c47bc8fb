/**
 * Connections to Temporal from the settings in src/config: plain on a local dev server, TLS
 * (optionally mutual) or an API key for a cluster or Temporal Cloud (design.md, "Beyond one
 * machine").
 */
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
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

export async function connectClient(settings: TemporalSettings, address: string): Promise<Client> {
  const tls = tlsOptions(settings);
  const connection = await Connection.connect({
    address,
    ...(tls !== undefined ? { tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  });
  return new Client({ connection, namespace: settings.namespace });
}

export async function connectWorker(settings: TemporalSettings, address: string): Promise<NativeConnection> {
  const tls = tlsOptions(settings);
  return NativeConnection.connect({
    address,
    ...(tls !== undefined ? { tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  });
}
