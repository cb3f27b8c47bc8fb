// The production workflows plus a probe that reports Object.prototype as the workflow sandbox sees
// it. Workflows on one worker share the sandbox's Object.prototype (reusable V8 context): what one
// workflow writes there, every other one reads (issue 9, item 4).
export { botCall, transferCall } from '../../../src/workflows/index.js';

export interface PrototypeReport {
  /** Object.prototype's own member names. */
  ownNames: string[];
  /** Members a polluting write would add, as a fresh object reads them; all undefined when clean. */
  inherited: Record<string, string>;
}

export async function prototypeProbe(): Promise<PrototypeReport> {
  const probe: Record<string, unknown> = {};
  const inherited: Record<string, string> = {};
  for (const member of [
    'polluted',
    'callId',
    'roster',
    'identity',
    'key',
    'joined',
    'state',
    'participantId',
  ]) {
    inherited[member] = typeof probe[member];
  }
  return { ownNames: Object.getOwnPropertyNames(Object.prototype).sort(), inherited };
}
