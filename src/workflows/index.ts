// The workflow bundle's entry point: every workflow type the worker registers.
//
// Layout: one folder per flow (the workflow, its messages, its types), each readable top to
// bottom; beside them the pieces every flow shares: the call state fed by Graph's notifications
// (call-state.ts, call-session.ts), the Graph requests as activities (graph-requests.ts,
// graph-bodies.ts), joining and holding a call (join.ts), and the shared signal (definitions.ts).
export { botCall } from './bot-call/bot-call.js';
export { groupCallOwner } from './group-call-owner/group-call-owner.js';
export { incomingCall } from './incoming-call/incoming-call.js';
export { nativeTransfer } from './native-transfer/native-transfer.js';
export { routeCall } from './route-call/route-call.js';
export { strayCall } from './stray-call/stray-call.js';
export { transferCall } from './transfer/transfer.js';
