/**
 * The API's route schemas for the OpenAPI document (`/openapi.json`), derived from the zod schemas
 * the routes validate with (src/webhook/transfer-request.ts, call-request.ts): one source of truth.
 * Fastify does not validate with them (src/webhook/server.ts turns its validator off for the API):
 * zod does, in the routes, and answers the clear 400s that name every wrong field.
 */
import type { FastifySchema } from 'fastify';
import { z } from 'zod';
import {
  botCallStartSchema,
  inviteRequestSchema,
  moveParticipantRequestSchema,
  transferIntoCallRequestSchema,
  transferParticipantRequestSchema,
} from './call-request.js';
import { redirectRequestSchema, rejectRequestSchema } from './incoming-call-request.js';
import {
  abandonNativeTransferRequestSchema,
  nativeTransferRequestSchema,
} from './native-transfer-request.js';
import { transferRequestSchema } from './transfer-request.js';

type JsonSchema = Record<string, unknown>;

/**
 * A zod schema as the JSON Schema (draft 2020-12, which OpenAPI 3.1 uses) of what a client sends.
 * Checks JSON Schema cannot say (a refinement such as "an identity with an id") come out as `{}`:
 * the 400 names them.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): JsonSchema {
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as JsonSchema;
  return jsonSchema;
}

const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('stable, for programs: unauthorized, invalid_transfer_request, …'),
    message: z.string().describe('for people: what is wrong and what to change'),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

const startedRunSchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  uiUrl: z.string().optional().describe('the run in the Temporal UI'),
});

const runStatusSchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  status: z.string().describe("Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELLED, …"),
  phase: z.string().optional(),
  snapshot: z.record(z.string(), z.unknown()).optional().describe("the flow's live state while it runs"),
  snapshotError: z.string().optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  failure: z.object({ message: z.string(), type: z.string().optional() }).optional(),
  startTime: z.string(),
  closeTime: z.string().optional(),
  uiUrl: z.string().optional(),
});

const requestedSchema = z.object({ workflowId: z.string(), runId: z.string(), status: z.string() });

const operationOutcomeSchema = z
  .object({ kind: z.string(), status: z.string(), operationId: z.string().optional() })
  .catchall(z.unknown());

const operationPendingSchema = z.object({
  workflowId: z.string(),
  updateId: z.string(),
  status: z.literal('ACCEPTED'),
  message: z.string(),
});

const workflowIdParams = jsonSchemaOf(
  z.object({ workflowId: z.string().describe('the workflow id a start answered') }),
);

const idempotencyKeyHeader = jsonSchemaOf(
  z.object({
    'idempotency-key': z
      .string()
      .describe(
        'Makes a retry safe: the same key with the same body answers the same run or outcome; with another body, 422',
      )
      .optional(),
  }),
);

const error = (description: string) => ({ description, ...jsonSchemaOf(errorBodySchema) });
const json = (description: string, schema: z.ZodType) => ({ description, ...jsonSchemaOf(schema, 'output') });

/** The answers every API route may give besides its own. */
const commonErrors = {
  400: error('The request is invalid: the message and issues name each wrong field'),
  401: error('No API token, or a wrong one'),
  503: error('Temporal did not answer in time: retry after Retry-After seconds'),
};

const startResponses = (what: string) => ({
  200: json(`The ${what} this Idempotency-Key (or id) already started: the same run`, startedRunSchema),
  201: json(`The ${what} started`, startedRunSchema),
  409: error(`A ${what} for this id already runs or ran, started without this key`),
  415: error('The body is not application/json'),
  422: error('This Idempotency-Key (or id) was used with a different body'),
  ...commonErrors,
});

const operationResponses = {
  200: json("The operation's outcome", operationOutcomeSchema),
  202: json('Accepted, no outcome yet: the snapshot lists it', operationPendingSchema),
  404: error('No bot call with this workflow id'),
  409: error('The bot call has ended'),
  415: error('The body is not application/json'),
  ...commonErrors,
};

const security = [{ bearerAuth: [] }];

/** What `GET /api/routing-rules` answers (docs/routing.md, "API"). */
export const routingRulesAnswerSchema = z.object({
  source: z.string().describe('the rule file (HANDOFF_ROUTING_RULES)'),
  version: z.string().optional().describe("the file's `version`"),
  loadedAt: z.string().describe('when the rules in force were loaded (ISO 8601)'),
  targets: z.record(z.string(), z.record(z.string(), z.unknown())).describe('named targets'),
  rules: z.array(z.record(z.string(), z.unknown())).describe('in order: the first match wins'),
  default: z.record(z.string(), z.unknown()).describe('the action for a call no rule matches'),
  lastReloadError: z
    .object({ at: z.string(), message: z.string() })
    .optional()
    .describe('why the last reload was refused (the rules above stayed in force)'),
});

const callIdParams = jsonSchemaOf(
  z.object({ callId: z.string().describe('the Graph id of the incoming call (from its notification)') }),
);

const incomingCallStartResponses = (what: string) => ({
  ...startResponses(what),
  409: error('This call was already redirected or rejected through this API (without this key)'),
});

const healthSchema = z.object({ status: z.string() });

const nativeTransferSnapshotSchema = z.object({
  callId: z.string(),
  mode: z.string(),
  phase: z.string(),
  consultationCallId: z.string().optional(),
  targetAnswered: z.boolean(),
  transferring: z.boolean(),
  transferAccepted: z.boolean(),
});

export const apiRouteSchemas = {
  liveness: {
    summary: 'The process serves HTTP',
    tags: ['health'],
    response: { 200: json('Alive', healthSchema) },
  },
  readiness: {
    summary:
      'The process can do its job: Temporal answers (and, on the webhook, the notification keys are loaded)',
    tags: ['health'],
    response: {
      200: json('Ready', healthSchema),
      503: error('Temporal does not answer, or the notification keys are not loaded yet: not ready'),
    },
  },
  startTransfer: {
    summary: 'Transfer a P2P call into a meeting or a group call',
    tags: ['transfers'],
    security,
    headers: idempotencyKeyHeader,
    body: jsonSchemaOf(transferRequestSchema),
    response: startResponses('transfer'),
  },
  getTransfer: {
    summary: "A transfer's status, live snapshot and result",
    tags: ['transfers'],
    security,
    params: workflowIdParams,
    response: {
      200: json('The run', runStatusSchema),
      404: error('No transfer with this workflow id'),
      ...commonErrors,
    },
  },
  cancelTransfer: {
    summary: 'Cancel a running transfer (it hangs up what it created)',
    tags: ['transfers'],
    security,
    params: workflowIdParams,
    response: {
      202: json('Cancellation requested', requestedSchema),
      404: error('No transfer with this workflow id'),
      409: error('The transfer has already finished'),
      ...commonErrors,
    },
  },
  startBotCall: {
    summary: 'Create or join a call the bot holds',
    tags: ['bot-calls'],
    security,
    headers: idempotencyKeyHeader,
    body: jsonSchemaOf(botCallStartSchema),
    response: startResponses('bot call'),
  },
  getBotCall: {
    summary: "A bot call's status, live snapshot (roster, operations) and result",
    tags: ['bot-calls'],
    security,
    params: workflowIdParams,
    response: {
      200: json('The run', runStatusSchema),
      404: error('No bot call with this workflow id'),
      ...commonErrors,
    },
  },
  invite: {
    summary: 'Invite participants into the call',
    tags: ['bot-calls'],
    security,
    params: workflowIdParams,
    headers: idempotencyKeyHeader,
    body: jsonSchemaOf(inviteRequestSchema),
    response: operationResponses,
  },
  transferIntoCall: {
    summary: 'Transfer another P2P call into this call (replacesCallId)',
    tags: ['bot-calls'],
    security,
    params: workflowIdParams,
    headers: idempotencyKeyHeader,
    body: jsonSchemaOf(transferIntoCallRequestSchema),
    response: operationResponses,
  },
  moveParticipant: {
    summary: 'Move a participant of another meeting into this call',
    tags: ['bot-calls'],
    security,
    params: workflowIdParams,
    headers: idempotencyKeyHeader,
    body: jsonSchemaOf(moveParticipantRequestSchema),
    response: operationResponses,
  },
  transferParticipant: {
    summary: 'Blind-transfer one participant out of this group call (Graph call: transfer, with transferee)',
    tags: ['bot-calls'],
    security,
    params: workflowIdParams,
    headers: idempotencyKeyHeader,
    body: jsonSchemaOf(transferParticipantRequestSchema),
    response: operationResponses,
  },
  hangUp: {
    summary: 'Hang up the call',
    tags: ['bot-calls'],
    security,
    params: workflowIdParams,
    response: {
      202: json('Hang-up requested', requestedSchema),
      404: error('No bot call with this workflow id'),
      409: error('The bot call has ended'),
      ...commonErrors,
    },
  },
  redirectIncomingCall: {
    summary: 'Redirect an incoming call without answering it (Graph call: redirect)',
    tags: ['incoming-calls'],
    security,
    params: callIdParams,
    headers: idempotencyKeyHeader,
    body: jsonSchemaOf(redirectRequestSchema),
    response: incomingCallStartResponses('redirect'),
  },
  rejectIncomingCall: {
    summary: 'Reject an incoming call without answering it (Graph call: reject)',
    tags: ['incoming-calls'],
    security,
    params: callIdParams,
    headers: idempotencyKeyHeader,
    body: jsonSchemaOf(rejectRequestSchema),
    response: incomingCallStartResponses('reject'),
  },
  startNativeTransfer: {
    summary: "Answer an incoming call and transfer it with Graph's call: transfer (blind or consultative)",
    tags: ['incoming-calls'],
    security,
    params: callIdParams,
    headers: idempotencyKeyHeader,
    body: jsonSchemaOf(nativeTransferRequestSchema),
    response: {
      ...startResponses('transfer'),
      409: error('This call is being or was transferred already through this API (without this key)'),
    },
  },
  getNativeTransfer: {
    summary: "A native transfer's status, live snapshot (phase, consultation call) and result",
    tags: ['incoming-calls'],
    security,
    params: callIdParams,
    response: {
      200: json('The run', runStatusSchema),
      404: error('This call was not transferred through this API'),
      ...commonErrors,
    },
  },
  completeNativeTransfer: {
    summary: 'Complete a consultative transfer (complete: onRequest) once the target answered',
    tags: ['incoming-calls'],
    security,
    params: callIdParams,
    headers: idempotencyKeyHeader,
    response: {
      200: json('Accepted: the snapshot', nativeTransferSnapshotSchema),
      404: error('This call was not transferred through this API'),
      409: error('Refused in this mode or phase, or the transfer has finished'),
      ...commonErrors,
    },
  },
  abandonNativeTransfer: {
    summary: 'Abandon a consultative transfer: hang up the consultation call and return to the caller',
    tags: ['incoming-calls'],
    security,
    params: callIdParams,
    headers: idempotencyKeyHeader,
    body: jsonSchemaOf(abandonNativeTransferRequestSchema),
    response: {
      200: json('Accepted: the snapshot', nativeTransferSnapshotSchema),
      404: error('This call was not transferred through this API'),
      409: error('Refused in this mode or phase, or the transfer has finished'),
      ...commonErrors,
    },
  },
  getIncomingCall: {
    summary: 'What became of a redirected or rejected incoming call',
    tags: ['incoming-calls'],
    security,
    params: callIdParams,
    response: {
      200: json('The run', runStatusSchema),
      404: error('This call was neither redirected nor rejected through this API'),
      ...commonErrors,
    },
  },
  getRoutingRules: {
    summary: 'The routing rules in force for incoming calls, and the last reload error',
    tags: ['routing-rules'],
    security,
    response: {
      200: json('The rules in force', routingRulesAnswerSchema),
      404: error('No rule file is configured (HANDOFF_ROUTING_RULES)'),
      ...commonErrors,
    },
  },
  reloadRoutingRules: {
    summary: 'Read the rule file again; an invalid file is refused and the rules in force stay',
    tags: ['routing-rules'],
    security,
    response: {
      200: json('The new rules, now in force', routingRulesAnswerSchema),
      404: error('No rule file is configured (HANDOFF_ROUTING_RULES)'),
      422: error('The file is invalid: the message names the rule and field; the old rules stay in force'),
      ...commonErrors,
    },
  },
} satisfies Record<string, FastifySchema & Record<string, unknown>>;
