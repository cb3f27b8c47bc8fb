// Graph's schemas, client and errors. The token provider (auth.ts, MSAL) is imported from its own
// module: only a worker asks Graph for tokens, and a webhook process must not load MSAL for nothing.
export * from './call.js';
export * from './client.js';
export * from './clouds.js';
export * from './errors.js';
export * from './identity.js';
export * from './incoming-call.js';
export * from './media.js';
export * from './meeting.js';
export * from './notification.js';
export * from './odata.js';
export * from './operation.js';
export * from './participant.js';
export * from './resource.js';
export * from './result-info.js';
