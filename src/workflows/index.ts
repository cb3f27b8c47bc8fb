// The workflow bundle's entry point: every workflow type the worker registers.
export { transferCall } from './transfer.js';
