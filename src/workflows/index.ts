// The workflow bundle's entry point: every workflow type the worker registers.
export { botCall } from './bot-call.js';
export { groupCallOwner } from './group-call-owner.js';
export { incomingCall } from './incoming-call.js';
export { strayCall } from './stray-call.js';
export { transferCall } from './transfer.js';
