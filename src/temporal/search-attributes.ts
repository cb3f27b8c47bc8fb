// Custom search attributes of Handoff workflows. Workflows set them (upsertSearchAttributes / typed
// searchAttributes at start), the webhook and operators query them, and every Temporal server the
// project starts registers them (see dev-server.ts). Only @temporalio/common: safe in workflow code.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
// The key type is not re-exported from the package root.
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes.js';

/** Every Graph call id a transfer touches (the original P2P call, the group call, ...). */
export const HandoffCallIds: SearchAttributeKey<'KEYWORD_LIST'> = defineSearchAttributeKey(
  'HandoffCallIds',
  SearchAttributeType.KEYWORD_LIST,
);

/** Where the transfer is, e.g. `answering`, `inviting`, `completed`, `failed`. */
export const HandoffTransferState: SearchAttributeKey<'KEYWORD'> = defineSearchAttributeKey(
  'HandoffTransferState',
  SearchAttributeType.KEYWORD,
);

/** Which flow the workflow runs, e.g. `p2p-to-group`, `invite`, `move`. */
export const HandoffFlow: SearchAttributeKey<'KEYWORD'> = defineSearchAttributeKey(
  'HandoffFlow',
  SearchAttributeType.KEYWORD,
);

/**
 * Who holds the workflow's calls once the flow is done (issue 10.2, docs/call-ownership.md):
 * `groupCallOwner` while a transfer with `botLegAfterTransfer: stay` keeps the group call (same
 * workflow id, continued as new), `strayCall` for a call that reached no owner, `none` once the
 * owner let go. Operators find every call the bot still holds with
 * `HandoffCallOwner = "groupCallOwner" AND ExecutionStatus = "Running"`.
 */
export const HandoffCallOwner: SearchAttributeKey<'KEYWORD'> = defineSearchAttributeKey(
  'HandoffCallOwner',
  SearchAttributeType.KEYWORD,
);

/**
 * Why an incoming call went where it went (issue 11.4, docs/routing.md): `<rule>:<action>`, e.g.
 * `after-hours:reject` or `default:reject`, set on the `routeCall` workflow and on the flow it
 * started. Operators find every call a rule sent somewhere with `HandoffRoute = "vip:transfer"`.
 */
export const HandoffRoute: SearchAttributeKey<'KEYWORD'> = defineSearchAttributeKey(
  'HandoffRoute',
  SearchAttributeType.KEYWORD,
);

export const handoffSearchAttributes: readonly SearchAttributeKey<SearchAttributeType>[] = [
  HandoffCallIds,
  HandoffTransferState,
  HandoffFlow,
  HandoffCallOwner,
  HandoffRoute,
];
