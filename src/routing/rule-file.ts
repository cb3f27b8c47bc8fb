/**
 * The routing rule file (HANDOFF_ROUTING_RULES, docs/routing.md): named targets, rules in order
 * (first match wins) and the action for a call no rule matches. JSON or YAML, validated with zod;
 * every problem is reported with the rule's index and name and the field to fix, and a rule that
 * names an unknown target (or a target of the wrong kind) is refused.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  MAX_REDIRECT_TARGETS,
  MAX_REDIRECT_TIMEOUT_SECONDS,
  MIN_REDIRECT_TIMEOUT_SECONDS,
  rejectReasons,
} from '../graph/index.js';
import { partySchema, transferTargetSchema } from '../webhook/transfer-request.js';
import type { NamedTarget, RouteAction } from '../workflows/route-call/definitions.js';

/** Graph gives the bot 15 s to act on an incoming call: the hook must leave room for the action. */
export const MAX_HOOK_TIMEOUT_MS = 10_000;
export const DEFAULT_HOOK_TIMEOUT_MS = 3_000;

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

const targetName = z
  .string()
  .regex(/^[\w.-]{1,64}$/, "a target name is 1-64 letters, digits, '_', '.' or '-'");
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day is HH:MM, 00:00 to 23:59');

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const timeWindowSchema = z.strictObject({
  timeZone: z.string().refine(isTimeZone, 'timeZone must be an IANA time zone such as Europe/Berlin'),
  days: z.array(z.enum(weekdays)).min(1).optional(),
  /** Inclusive; a window whose `to` is before `from` runs past midnight. */
  from: clockTime,
  /** Exclusive. */
  to: clockTime,
});
export type TimeWindow = z.infer<typeof timeWindowSchema>;

const matchSchema = z.strictObject({
  /** Any of these ids among the call's `targets` (the application instance, its number, the bot). */
  called: z.array(z.string().min(1)).min(1).optional(),
  callerType: z
    // `anonymous`: the notification names no caller with an id (a withheld number, say).
    .array(z.enum(['user', 'phone', 'guest', 'application', 'applicationInstance', 'device', 'anonymous']))
    .min(1)
    .optional(),
  callerTenant: z.array(z.string().min(1)).min(1).optional(),
  phonePrefix: z
    .array(z.string().regex(/^\+\d{1,14}$/, 'a phone prefix is "+" and digits, e.g. +49'))
    .min(1)
    .optional(),
  time: timeWindowSchema.optional(),
});
export type RuleMatch = z.infer<typeof matchSchema>;

const redirectTimeoutMessage = `timeoutSeconds must be ${MIN_REDIRECT_TIMEOUT_SECONDS}-${MAX_REDIRECT_TIMEOUT_SECONDS}`;

/** The actions a rule, the default or the hook may choose (everything but `ask`). */
export const routeActionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('transfer'), target: targetName }),
  z.strictObject({ kind: z.literal('blindTransfer'), target: targetName }),
  z.strictObject({
    kind: z.literal('redirect'),
    targets: z.array(targetName).min(1).max(MAX_REDIRECT_TARGETS),
    timeoutSeconds: z
      .number()
      .int(redirectTimeoutMessage)
      .min(MIN_REDIRECT_TIMEOUT_SECONDS, redirectTimeoutMessage)
      .max(MAX_REDIRECT_TIMEOUT_SECONDS, redirectTimeoutMessage)
      .optional(),
    maskCallee: z.boolean().optional(),
    maskCaller: z.boolean().optional(),
  }),
  z.strictObject({
    kind: z.literal('reject'),
    reason: z.enum(rejectReasons, { error: `reason must be one of ${rejectReasons.join(', ')}` }).optional(),
  }),
]) satisfies z.ZodType<RouteAction>;

/** Headers the decision hook's request sets itself. */
const reservedHookHeaders = new Set(['content-type', 'accept', 'content-length', 'host']);

const askSchema = z.strictObject({
  kind: z.literal('ask'),
  url: z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL' }),
  timeoutMs: z
    .number()
    .int()
    .min(100, 'timeoutMs must be at least 100')
    .max(MAX_HOOK_TIMEOUT_MS, `timeoutMs must be at most ${MAX_HOOK_TIMEOUT_MS} (Graph's 15 s window)`)
    .default(DEFAULT_HOOK_TIMEOUT_MS),
  fallback: routeActionSchema,
  /** Header name → the environment variable (of the worker) holding its value; never the value. */
  headers: z
    .record(
      z.string(),
      z
        .string()
        .regex(
          /^[A-Z_][A-Z0-9_]{0,127}$/,
          'a header value names an environment variable (e.g. CRM_HOOK_TOKEN), never the secret itself',
        ),
    )
    // Key problems are reported here, on the key's own path: a record's key schema only says "Invalid key".
    .superRefine((headers, context) => {
      for (const name of Object.keys(headers)) {
        const problem = !/^[A-Za-z0-9-]{1,64}$/.test(name)
          ? 'a header name is letters, digits and "-"'
          : reservedHookHeaders.has(name.toLowerCase())
            ? `a hook may not set ${[...reservedHookHeaders].join(', ')}: Handoff sets them`
            : undefined;
        if (problem) context.addIssue({ code: 'custom', path: [name], message: problem });
      }
    })
    .optional(),
});

const ruleSchema = z.strictObject({
  name: z.string().regex(/^[\w.-]{1,64}$/, "a rule name is 1-64 letters, digits, '_', '.' or '-'"),
  match: matchSchema.default({}),
  action: z.discriminatedUnion('kind', [...routeActionSchema.options, askSchema]),
});
export type Rule = z.infer<typeof ruleSchema>;

const namedTargetSchema = z.union([
  z.strictObject({ transfer: transferTargetSchema }),
  z.strictObject({ identity: partySchema }),
]);

const ruleFileSchema = z.strictObject({
  /** A label people choose (e.g. a date or a git sha), shown by the API and recorded per call. */
  version: z.union([z.string(), z.number()]).transform(String).optional(),
  targets: z.record(targetName, namedTargetSchema).default({}),
  rules: z.array(ruleSchema),
  /** For a call no rule matches. */
  default: routeActionSchema.default({ kind: 'reject', reason: 'none' }),
});

export interface RuleSet {
  version?: string;
  targets: Record<string, NamedTarget>;
  rules: Rule[];
  default: RouteAction;
}

export class RoutingRulesError extends Error {
  override readonly name = 'RoutingRulesError';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid routing rules in ${source}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** `rules[2] ("vip"): action.target`, so the message names the rule a person has to fix. */
function describePath(path: readonly PropertyKey[], input: unknown): string {
  const [head, index, ...rest] = path;
  const field = (keys: readonly PropertyKey[]) =>
    keys.reduce<string>(
      (text, key) =>
        typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
      '',
    );
  if (head === 'rules' && typeof index === 'number') {
    const rules = (input as { rules?: unknown })?.rules;
    const name = Array.isArray(rules) ? (rules[index] as { name?: unknown } | undefined)?.name : undefined;
    const rule = `rules[${index}]${typeof name === 'string' ? ` ("${name}")` : ''}`;
    return rest.length > 0 ? `${rule}: ${field(rest)}` : rule;
  }
  return field(path) || '(file)';
}

/** The targets an action names must exist, and be of the kind the action needs. */
export function targetProblems(
  action: RouteAction,
  targets: Record<string, NamedTarget>,
): Array<[string, string]> {
  const need = (name: string, kind: NamedTarget['kind'], field: string): Array<[string, string]> => {
    const target = targets[name];
    if (!target) {
      const known = Object.keys(targets);
      return [
        [field, `unknown target "${name}" (targets: ${known.length ? known.join(', ') : 'none defined'})`],
      ];
    }
    if (target.kind !== kind)
      return [
        [
          field,
          kind === 'transfer'
            ? `target "${name}" is a party ({ identity }); a transfer needs a meeting or group call ({ transfer })`
            : `target "${name}" is a meeting or group call ({ transfer }); ${action.kind} needs a party ({ identity })`,
        ],
      ];
    return [];
  };
  switch (action.kind) {
    case 'transfer':
      return need(action.target, 'transfer', 'target');
    case 'blindTransfer':
      return need(action.target, 'participant', 'target');
    case 'redirect':
      return action.targets.flatMap((name, index) => need(name, 'participant', `targets[${index}]`));
    case 'reject':
      return [];
  }
}

/** Checks a parsed document (JSON or YAML); throws RoutingRulesError naming every problem. */
export function ruleSetFrom(document: unknown, source: string): RuleSet {
  const parsed = ruleFileSchema.safeParse(document);
  if (!parsed.success) {
    throw new RoutingRulesError(
      source,
      parsed.error.issues.map((issue) => `${describePath(issue.path, document)}: ${issue.message}`),
    );
  }
  const file = parsed.data;
  const targets: Record<string, NamedTarget> = {};
  for (const [name, target] of Object.entries(file.targets)) {
    targets[name] =
      'transfer' in target
        ? { kind: 'transfer', transfer: target.transfer }
        : { kind: 'participant', participant: { identity: target.identity } };
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  file.rules.forEach((rule, index) => {
    const where = `rules[${index}] ("${rule.name}")`;
    if (seen.has(rule.name)) problems.push(`${where}: name: another rule is named "${rule.name}"`);
    seen.add(rule.name);
    const { action } = rule;
    const checked = action.kind === 'ask' ? action.fallback : action;
    const prefix = action.kind === 'ask' ? 'action.fallback' : 'action';
    for (const [field, message] of targetProblems(checked, targets))
      problems.push(`${where}: ${prefix}.${field}: ${message}`);
  });
  for (const [field, message] of targetProblems(file.default, targets))
    problems.push(`default.${field}: ${message}`);
  if (problems.length > 0) throw new RoutingRulesError(source, problems);
  return {
    ...(file.version !== undefined ? { version: file.version } : {}),
    targets,
    rules: file.rules,
    default: file.default,
  };
}

/** Parses a rule file's text: YAML (JSON is YAML too), then ruleSetFrom. */
export function parseRuleFile(text: string, source: string): RuleSet {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new RoutingRulesError(source, [`not JSON or YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  return ruleSetFrom(document, source);
}

/** Each decision-hook header of the rule set whose environment variable `env` lacks. */
export function unsetHookHeaderVariables(
  ruleSet: RuleSet,
  env: NodeJS.ProcessEnv,
): Array<{ rule: string; header: string; variable: string }> {
  return ruleSet.rules.flatMap((rule) =>
    rule.action.kind === 'ask'
      ? Object.entries(rule.action.headers ?? {})
          .filter(([, variable]) => !env[variable])
          .map(([header, variable]) => ({ rule: rule.name, header, variable }))
      : [],
  );
}
