import { HttpError } from './errors.js';

/**
 * Workflow ids this webhook accepts in a path: what `transferWorkflowId` makes of a Graph call id
 * (`transfer-57DAB8B1…`, `transfer-2f1a0b00-…`). No slashes, no `..`, no unicode: the id is
 * echoed into callback URLs and logs.
 */
const workflowIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

export function isValidWorkflowId(workflowId: string): boolean {
  return workflowIdPattern.test(workflowId) && !workflowId.includes('..');
}

/** Returns the id, or throws a 400 naming the rule it broke. */
export function checkWorkflowId(workflowId: unknown): string {
  if (typeof workflowId === 'string' && isValidWorkflowId(workflowId)) return workflowId;
  throw new HttpError(
    400,
    'invalid_workflow_id',
    "the workflow id must be 1-200 characters of letters, digits, '.', '_', ':' or '-', start with a letter or digit and not contain '..'",
  );
}
