export { type CallbackBinding, callbackKeyFor, isCallbackKeyValid } from './callback-binding.js';
export {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_NOTIFICATION_BUDGET_MS,
  type IncomingCallPolicy,
  type WebhookDeps,
} from './deps.js';
export { type ErrorBody, HttpError } from './errors.js';
export { MAX_JSON_DEPTH } from './json-body.js';
export {
  CALLING_NOTIFICATION_ISSUERS,
  CALLING_OPENID_CONFIGURATION_URL,
  createNotificationVerifier,
  NotificationAuthError,
  type NotificationAuthFailure,
  type NotificationAuthOptions,
  type NotificationVerifier,
  notificationTokenAlgorithms,
  type VerifiedToken,
} from './notification-auth.js';
export { createNotificationKeys, type NotificationKeys } from './notification-keys.js';
export { type DeliveryReport, isIncomingCall } from './routes/notifications.js';
export type { TransferStatus } from './routes/transfers.js';
export { buildApiServer, buildWebhookServer, OPENAPI_PATH } from './server.js';
export { parseTransferRequest, type TransferRequest, transferRequestSchema } from './transfer-request.js';
export { callbackUriFor, TRANSFER_WORKFLOW_TYPE, temporalUiUrlFor } from './transfer-start.js';
