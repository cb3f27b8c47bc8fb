/**
 * The messages Handoff workflows accept and answer. Shared by workflow code and by clients
 * (the webhook, the HTTP API, other services): only @temporalio/workflow's define* helpers,
 * which are safe to import outside a workflow.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { GraphNotification } from '../graph/index.js';
import type { TransferSnapshot } from './transfer/types.js';

/** One POST from Graph, already verified and parsed by the webhook. */
export interface NotificationDelivery {
  notifications: GraphNotification[];
  /** When the webhook received it (ISO 8601), for the UI and for lateness diagnostics. */
  receivedAt: string;
}

export const graphNotificationsSignal = defineSignal<[NotificationDelivery]>('graphNotifications');

export const transferStateQuery = defineQuery<TransferSnapshot>('transferState');

/** Workflow ids say what they are (design.md, "Inspecting and replaying"). */
export function transferWorkflowId(p2pCallId: string): string {
  return `transfer-${p2pCallId}`;
}
