/**
 * The body of `POST /api/incoming-calls/:callId/transfer` (issue 11.1-2): hand an incoming call on
 * with Graph's own `call: transfer`, blind or after a consultation call. Validated with the Graph
 * vocabulary so a request Graph would refuse is refused here, before a workflow exists, with
 * every wrong field named.
 */
import { z } from 'zod';
import type { NativeTransferMode } from '../workflows/native-transfer/definitions.js';
import { HttpError } from './errors.js';
import { partySchema } from './transfer-request.js';

export const nativeTransferModes = ['blind', 'consultative'] as const;
export const nativeTransferCompletions = ['whenTargetAnswers', 'onRequest'] as const;

const MIN_CONSULTATION_TIMEOUT_MS = 1_000;
const MAX_CONSULTATION_TIMEOUT_MS = 10 * 60_000;
const consultationTimeoutMessage = `consultationTimeoutMs must be a whole number of milliseconds from ${MIN_CONSULTATION_TIMEOUT_MS} to ${MAX_CONSULTATION_TIMEOUT_MS}`;

export const nativeTransferRequestSchema = z
  .strictObject({
    mode: z
      .enum(nativeTransferModes, { error: `mode must be one of ${nativeTransferModes.join(', ')}` })
      .describe('blind: transfer at once; consultative: call the target first, then transfer'),
    target: z
      .strictObject({ identity: partySchema })
      .describe('the transferTarget: a Teams user, an application instance, or a phone number in E.164'),
    complete: z
      .enum(nativeTransferCompletions, {
        error: `complete must be one of ${nativeTransferCompletions.join(', ')}`,
      })
      .optional()
      .describe('consultative only: complete when the target answers (default) or on request'),
    consultationTimeoutMs: z
      .number()
      .int(consultationTimeoutMessage)
      .min(MIN_CONSULTATION_TIMEOUT_MS, consultationTimeoutMessage)
      .max(MAX_CONSULTATION_TIMEOUT_MS, consultationTimeoutMessage)
      .optional()
      .describe('consultative only: how long the target may take to answer (default 60000)'),
    applicationInstance: z
      .strictObject({
        id: z.string().min(1, 'applicationInstance.id must be non-empty'),
        displayName: z.string().optional(),
      })
      .optional()
      .describe(
        'consultative to a phone number: the application instance (with a number) that places the call',
      ),
    caller: partySchema
      .optional()
      .describe("the caller, from the incoming call's source.identity (for display)"),
  })
  .superRefine((request, ctx) => {
    if (request.mode !== 'blind') {
      if (request.target.identity.phone && !request.applicationInstance) {
        ctx.addIssue({
          code: 'custom',
          path: ['applicationInstance'],
          message:
            'a consultation call to a phone number is placed from an application instance: applicationInstance is required',
        });
      }
      return;
    }
    for (const field of ['complete', 'consultationTimeoutMs', 'applicationInstance'] as const) {
      if (request[field] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `${field} applies to mode consultative only`,
        });
      }
    }
  });

export type NativeTransferRequest = z.output<typeof nativeTransferRequestSchema>;

export const abandonNativeTransferRequestSchema = z.strictObject({
  reason: z
    .string()
    .max(500, 'reason must be at most 500 characters')
    .optional()
    .describe('why, for the result'),
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
    'invalid_native_transfer_request',
    `invalid ${what} request: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
    { issues },
  );
}

export interface ParsedNativeTransfer {
  mode: NativeTransferMode;
  caller?: NativeTransferRequest['caller'];
  applicationInstance?: NativeTransferRequest['applicationInstance'];
}

export function parseNativeTransferRequest(body: unknown): ParsedNativeTransfer {
  const request = parse(nativeTransferRequestSchema, body, 'transfer');
  const target = { identity: request.target.identity };
  const mode: NativeTransferMode =
    request.mode === 'blind'
      ? { kind: 'blind', target }
      : {
          kind: 'consultative',
          target,
          complete: request.complete ?? 'whenTargetAnswers',
          ...(request.consultationTimeoutMs !== undefined
            ? { consultationTimeoutMs: request.consultationTimeoutMs }
            : {}),
        };
  return {
    mode,
    ...(request.caller ? { caller: request.caller } : {}),
    ...(request.applicationInstance ? { applicationInstance: request.applicationInstance } : {}),
  };
}

export function parseAbandonRequest(body: unknown): { reason?: string } {
  const request = parse(abandonNativeTransferRequestSchema, body ?? {}, 'abandon');
  return request.reason !== undefined ? { reason: request.reason } : {};
}
