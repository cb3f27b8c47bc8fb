import { z } from 'zod';
import { type Call, callSchema } from './call.js';
import { caseInsensitiveEnum, odataTypeName, odataTypeOf } from './odata.js';
import { type CommsOperation, commsOperationSchema } from './operation.js';
import { deltaParticipantsSchema, type Participant, participantSchema } from './participant.js';
import { parseResource, type ResourceRef } from './resource.js';

export const changeTypes = ['created', 'updated', 'deleted'] as const;
export type ChangeType = (typeof changeTypes)[number];

/**
 * The internal shape of one Graph notification, whichever generation of the API sent it.
 * Plain JSON, so that it can travel as a Temporal signal argument.
 */
interface NotificationBase {
  changeType: ChangeType;
  /** The resource in its current form: `/communications/calls/{id}/…`. */
  resourceUrl: string;
  callId: string;
}

/** A call's state changed, or the call was deleted (`changeType: deleted`). */
export interface CallNotification extends NotificationBase {
  kind: 'call';
  call: Call;
}

/** An operation (answer, invite, …) reached a status; `deleted` carries its final status. */
export interface OperationNotification extends NotificationBase {
  kind: 'operation';
  /** Missing when Graph sends `id: null` and a path without one. Match by clientContext then. */
  operationId?: string;
  operation: CommsOperation;
}

/** A roster update: the full roster, or with delta roster only the changed participants. */
export interface ParticipantsNotification extends NotificationBase {
  kind: 'participants';
  participants: Participant[];
  /** Present for delta rosters (`deltaParticipants`), which must be applied in order. */
  sequenceNumber?: number;
}

/** A notification Handoff has no use for but Graph legitimately sends (content sharing, …). */
export interface OtherNotification extends NotificationBase {
  kind: 'other';
  resourceType: string;
}

export type GraphNotification =
  | CallNotification
  | OperationNotification
  | ParticipantsNotification
  | OtherNotification;

export interface NotificationIssue {
  /** Where in the body, e.g. `value[0].resourceData.state`. */
  path: string;
  message: string;
}

/** The body is not a Graph notification batch. The message names every problem found. */
export class NotificationParseError extends Error {
  override readonly name = 'NotificationParseError';
  constructor(readonly issues: NotificationIssue[]) {
    super(
      `invalid Graph notification: ${issues.map((issue) => `${issue.path || '(body)'}: ${issue.message}`).join('; ')}`,
    );
  }
}

const rawNotificationSchema = z.looseObject({
  '@odata.type': odataTypeOf('commsNotification'),
  changeType: caseInsensitiveEnum(changeTypes),
  // `resource` in the /app generation (seed 000), `resourceUrl` in the current one; some
  // notifications carry both (seed 003).
  resource: z.string().min(1).optional(),
  resourceUrl: z.string().min(1).optional(),
  callbackUri: z.string().optional(),
  resourceData: z.union([z.looseObject({}), z.array(z.looseObject({}))], {
    error: 'resourceData must be an object or an array of objects',
  }),
});
type RawNotification = z.output<typeof rawNotificationSchema>;

const rawBatchSchema = z.object({
  '@odata.type': odataTypeOf('commsNotifications', 'notifications'),
  value: z.array(z.unknown()).min(1, 'a notification batch needs at least one notification'),
});

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, '');
}

function issuesFrom(error: z.ZodError, prefix: readonly PropertyKey[]): NotificationIssue[] {
  return error.issues.map((issue) => ({
    path: formatPath([...prefix, ...issue.path]),
    message: issue.message,
  }));
}

class ItemError extends Error {
  constructor(
    readonly relativePath: readonly PropertyKey[],
    message: string,
  ) {
    super(message);
  }
}

function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  path: readonly PropertyKey[],
): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new ItemError([...path, ...(first?.path ?? [])], first?.message ?? 'invalid');
  }
  return result.data;
}

function typeNameOf(data: Record<string, unknown>): string | undefined {
  const type = data['@odata.type'];
  return typeof type === 'string' ? odataTypeName(type) : undefined;
}

function currentResourceUrl(ref: ResourceRef): string {
  const base = `/communications/calls/${ref.callId}`;
  switch (ref.kind) {
    case 'call':
      return base;
    case 'operation':
      return `${base}/operations/${ref.operationId}`;
    case 'participants':
      return `${base}/participants`;
    case 'participant':
      return `${base}/participants/${ref.participantId}`;
    case 'callChild':
      return `${base}/${ref.collection}`;
  }
}

/** The operation id a resource path names, if it names one (see the `operation` case below). */
function operationIdFromPath(ref: ResourceRef): string | undefined {
  if (ref.kind !== 'operation') return undefined;
  return ref.operationId.toLowerCase() === 'participants' ? undefined : ref.operationId;
}

type ResourceKind = 'call' | 'operation' | 'participants' | 'deltaParticipants' | 'other';

/**
 * What a notification is about. The resourceData type decides when present; the path only
 * when it is absent (seed 004's notifications carry no `@odata.type`), because paths lie:
 * seed 003 example 2 sends an invite's roster on `/calls/{id}/operations/participants`.
 */
function resourceKindOf(
  raw: RawNotification,
  ref: ResourceRef | undefined,
): { kind: ResourceKind; type: string } {
  const data = raw.resourceData;
  if (Array.isArray(data)) {
    const types = new Set(data.map(typeNameOf).filter((type): type is string => type !== undefined));
    if (types.size > 1)
      throw new ItemError(['resourceData'], `mixed resource types ${[...types].join(', ')}`);
    const [declared] = [...types];
    const sample = data[0];
    const type =
      declared ??
      (sample && Array.isArray(sample.participants)
        ? 'deltaParticipants'
        : sample && 'info' in sample
          ? 'participant'
          : ref?.kind === 'participants'
            ? 'participant'
            : undefined);
    if (type === undefined)
      throw new ItemError(['resourceData'], 'cannot tell what this resourceData collection holds');
    if (type.toLowerCase() === 'participant') return { kind: 'participants', type };
    if (type.toLowerCase() === 'deltaparticipants') return { kind: 'deltaParticipants', type };
    if (type.toLowerCase() === 'contentsharingsession') return { kind: 'other', type };
    throw new ItemError(['resourceData', 0, '@odata.type'], `unknown resource type "${type}"`);
  }
  const declared = typeNameOf(data);
  if (declared !== undefined) {
    const lower = declared.toLowerCase();
    if (lower === 'call') return { kind: 'call', type: declared };
    if (lower.endsWith('operation')) return { kind: 'operation', type: declared };
    if (lower === 'deltaparticipants') return { kind: 'deltaParticipants', type: declared };
    throw new ItemError(['resourceData', '@odata.type'], `unknown resource type "${declared}"`);
  }
  if (ref?.kind === 'call') return { kind: 'call', type: 'call' };
  if (ref?.kind === 'operation') return { kind: 'operation', type: 'commsOperation' };
  throw new ItemError(
    ['resourceData'],
    'resourceData has no @odata.type and its resource path does not say what it is',
  );
}

function normaliseNotification(raw: RawNotification): GraphNotification {
  const resource = raw.resourceUrl ?? raw.resource;
  if (resource === undefined) throw new ItemError(['resourceUrl'], 'resourceUrl (or resource) is required');
  const ref = parseResource(resource);
  if (ref === undefined)
    throw new ItemError(
      [raw.resourceUrl ? 'resourceUrl' : 'resource'],
      `"${resource}" is not a Graph call resource`,
    );
  const { kind, type } = resourceKindOf(raw, ref);
  const base = { changeType: raw.changeType, resourceUrl: currentResourceUrl(ref), callId: ref.callId };
  const data = raw.resourceData;

  switch (kind) {
    case 'call': {
      if (Array.isArray(data))
        throw new ItemError(['resourceData'], 'a call notification carries one call, not a list');
      const call = parseWith(callSchema, data, ['resourceData']);
      return { ...base, kind: 'call', call: { ...call, id: call.id ?? ref.callId } };
    }
    case 'operation': {
      if (Array.isArray(data))
        throw new ItemError(['resourceData'], 'an operation notification carries one operation, not a list');
      const operation = parseWith(commsOperationSchema, data, ['resourceData']);
      // Prefer the operation's own id; the path's last segment is a fallback (seeds 000-002 send
      // no `id` in resourceData). Seed 003 (participant: invite, example 2) sends `id: null` on
      // `/calls/{id}/operations/participants`: that segment is a collection name, not an id, and
      // taking it would key every such invite as operation "participants". Leave operationId out
      // then; clientContext is the key.
      const operationId = operation.id ?? operationIdFromPath(ref);
      return { ...base, kind: 'operation', ...(operationId ? { operationId } : {}), operation };
    }
    case 'participants': {
      // A single object is parsed as one, so that a message's path has no [0] the body does not have.
      const participants = Array.isArray(data)
        ? parseWith(z.array(participantSchema), data, ['resourceData'])
        : [parseWith(participantSchema, data, ['resourceData'])];
      return { ...base, kind: 'participants', participants };
    }
    case 'deltaParticipants': {
      const deltas = Array.isArray(data)
        ? parseWith(z.array(deltaParticipantsSchema), data, ['resourceData'])
        : [parseWith(deltaParticipantsSchema, data, ['resourceData'])];
      const ordered = [...deltas].sort((a, b) => a.sequenceNumber - b.sequenceNumber);
      const last = ordered[ordered.length - 1];
      return {
        ...base,
        kind: 'participants',
        participants: ordered.flatMap((delta) => delta.participants),
        ...(last ? { sequenceNumber: last.sequenceNumber } : {}),
      };
    }
    case 'other':
      return { ...base, kind: 'other', resourceType: type };
  }
}

/**
 * Parses a notification batch as Graph POSTs it to a bot's callback, in any of the shapes the
 * seeds show, into the internal shape. Throws NotificationParseError naming every problem.
 */
export function parseNotifications(body: unknown): GraphNotification[] {
  const batch = rawBatchSchema.safeParse(body);
  if (!batch.success) throw new NotificationParseError(issuesFrom(batch.error, []));
  const issues: NotificationIssue[] = [];
  const notifications: GraphNotification[] = [];
  batch.data.value.forEach((item, index) => {
    const raw = rawNotificationSchema.safeParse(item);
    if (!raw.success) {
      issues.push(...issuesFrom(raw.error, ['value', index]));
      return;
    }
    try {
      notifications.push(normaliseNotification(raw.data));
    } catch (error) {
      if (!(error instanceof ItemError)) throw error;
      issues.push({ path: formatPath(['value', index, ...error.relativePath]), message: error.message });
    }
  });
  if (issues.length > 0) throw new NotificationParseError(issues);
  return notifications;
}
