import { patched } from '@temporalio/workflow';
import { BARE_CALL_IDS_PATCH, bareCallId } from './call-id.js';

/**
 * A call id from a workflow's input or an update, made bare (call-id.ts). The API already sends
 * bare ids; this covers other clients of the workflow. Workflow code only: a path given to a
 * workflow that started before the patch stays as it was on replay.
 */
export function callIdFromInput(idOrPath: string): string {
  const bare = bareCallId(idOrPath);
  return bare !== idOrPath && patched(BARE_CALL_IDS_PATCH) ? bare : idOrPath;
}
