/**
 * A worker's connection to Temporal, with the same settings as a client's (connection.ts). On its
 * own so that only the processes that run a worker load @temporalio/worker.
 */
import { NativeConnection } from '@temporalio/worker';
import type { TemporalSettings } from '../config/env.js';
import { connectionOptions } from './connection.js';

export async function connectWorker(settings: TemporalSettings, address: string): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(settings, address));
}
