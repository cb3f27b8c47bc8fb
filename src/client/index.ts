/**
 * `handoff/client`: everything another service needs to use Handoff.
 *
 * - Over HTTP: `HandoffClient` (start, follow and cancel transfers; create, operate and hang up
 *   bot calls), errors as `HandoffApiError` with the API's code and message.
 * - Over Temporal: the workflow type names, their signal/query/update definitions, workflow ids
 *   and input/result types, for `client.workflow.start('transferCall', …)` and friends.
 */
export * from './http.js';
export * from './temporal.js';
export type * from './types.js';
