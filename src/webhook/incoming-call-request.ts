/**
 * The bodies of `POST /api/incoming-calls/:callId/redirect` and `/reject` (issue 11.3), validated
 * with the Graph vocabulary ("call: redirect", "call: reject", v1.0) so a request Graph would
 * refuse is refused here, before a workflow exists, with every wrong field named.
 */
import { z } from 'zod';
import {
  MAX_REDIRECT_TARGETS,
  MAX_REDIRECT_TIMEOUT_SECONDS,
  MIN_REDIRECT_TIMEOUT_SECONDS,
  rejectReasons,
} from '../graph/index.js';
import { bareCallId } from '../workflows/call-id.js';
import type { IncomingCallAction } from '../workflows/incoming-call/definitions.js';
import { incomingCallWorkflowId } from '../workflows/incoming-call/definitions.js';
import { HttpError } from './errors.js';
import { partySchema } from './transfer-request.js';
import { isValidWorkflowId } from './workflow-id.js';

const timeoutMessage = `timeout must be a whole number of seconds from ${MIN_REDIRECT_TIMEOUT_SECONDS} to ${MAX_REDIRECT_TIMEOUT_SECONDS} (how long Graph rings the targets)`;

export const redirectRequestSchema = z.strictObject({
  targets: z
    .array(z.strictObject({ identity: partySchema }))
    .min(1, 'targets must name at least one participant to redirect the call to')
    .max(MAX_REDIRECT_TARGETS, `Graph rings at most ${MAX_REDIRECT_TARGETS} targets at once`)
    .describe('rung all at once; the first to pick up takes the call'),
  timeout: z
    .number()
    .int(timeoutMessage)
    .min(MIN_REDIRECT_TIMEOUT_SECONDS, timeoutMessage)
    .max(MAX_REDIRECT_TIMEOUT_SECONDS, timeoutMessage)
    .optional(),
  maskCallee: z.boolean().optional().describe('documented on Graph beta only; sent only when set'),
  maskCaller: z.boolean().optional().describe('documented on Graph beta only; sent only when set'),
});

export const rejectRequestSchema = z.strictObject({
  reason: z
    .enum(rejectReasons, { error: `reason must be one of ${rejectReasons.join(', ')}` })
    .optional()
    .describe('what the caller is told; none by default'),
});

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    '',
  );
}

function parse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: formatPath(issue.path) || '(body)',
    message: issue.message,
  }));
  throw new HttpError(
    400,
    'invalid_incoming_call_request',
    `invalid ${what} request: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
    { issues },
  );
}

/** The call id of the path, made bare; a 400 when it cannot name a workflow. */
export function incomingCallIdOf(value: unknown): string {
  const callId = typeof value === 'string' ? bareCallId(value) : '';
  if (callId && isValidWorkflowId(incomingCallWorkflowId(callId))) return callId;
  throw new HttpError(
    400,
    'invalid_call_id',
    "the call id must be a Graph call id: letters, digits, '.', '_', ':' or '-', at most 190 characters",
  );
}

export function parseRedirectRequest(body: unknown): IncomingCallAction {
  const request = parse(redirectRequestSchema, body, 'redirect');
  return {
    kind: 'redirect',
    targets: request.targets,
    ...(request.timeout !== undefined ? { timeoutSeconds: request.timeout } : {}),
    ...(request.maskCallee !== undefined ? { maskCallee: request.maskCallee } : {}),
    ...(request.maskCaller !== undefined ? { maskCaller: request.maskCaller } : {}),
  };
}

export function parseRejectRequest(body: unknown): IncomingCallAction {
  const request = parse(rejectRequestSchema, body, 'reject');
  return { kind: 'reject', reason: request.reason ?? 'none' };
}
