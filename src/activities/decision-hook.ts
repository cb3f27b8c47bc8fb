/**
 * The `ask` action's decision hook (docs/routing.md, "Decision hook"): one POST of the call's facts
 * to another service, which answers which action to take. Run as an activity by `routeCall`, with
 * one attempt: a slow, unreachable or garbled hook is an answer too ("no answer"), and the
 * workflow then takes the rule's fallback. The answer is validated here, with zod: it may only name
 * an action Handoff knows and targets the rule file defines.
 */
import { z } from 'zod';
import { routeActionSchema, targetProblems } from '../routing/rule-file.js';
import type { CallFacts, HookOutcome, NamedTarget } from '../workflows/route-call/definitions.js';

/** What the hook is sent (the body of the POST). */
export interface DecisionHookRequest {
  url: string;
  timeoutMs: number;
  callId: string;
  rule: string;
  facts: CallFacts;
  /** The targets an answer may name, and their kind (`transfer` or `participant`). */
  targets: Record<string, NamedTarget>;
  /** Header name → the environment variable holding its value, read here (docs/routing.md). */
  headers?: Record<string, string>;
}

/**
 * The rule's headers with their values from this process's environment, or why not: a header
 * whose variable is unset would reach the hook unauthenticated, so the hook is not asked at all.
 */
export function hookHeaders(
  headers: Record<string, string> | undefined,
  env: NodeJS.ProcessEnv,
): { headers: Record<string, string> } | { missing: string } {
  const resolved: Record<string, string> = {};
  for (const [name, variable] of Object.entries(headers ?? {})) {
    const value = env[variable];
    if (!value) {
      return {
        missing: `header ${name} names the environment variable ${variable}, which this worker does not have`,
      };
    }
    resolved[name] = value;
  }
  return { headers: resolved };
}

const hookAnswerSchema = z.object({
  action: routeActionSchema,
  why: z.string().max(500).optional(),
});

/** A decision is a few hundred bytes: a longer answer is refused (and never reaches the history). */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Checks a hook's answer: a known action naming known targets of the right kind. */
export function checkHookAnswer(body: unknown, targets: Record<string, NamedTarget>): HookOutcome {
  const parsed = hookAnswerSchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`,
    );
    return { answered: false, why: `the hook answered an invalid decision: ${problems.join('; ')}` };
  }
  const problems = targetProblems(parsed.data.action, targets);
  if (problems.length > 0) {
    return {
      answered: false,
      why: `the hook answered an invalid decision: ${problems.map(([field, message]) => `action.${field}: ${message}`).join('; ')}`,
    };
  }
  return { answered: true, action: parsed.data.action, ...(parsed.data.why ? { why: parsed.data.why } : {}) };
}

export function createRoutingActivities(
  fetchImpl: typeof fetch = fetch,
  env: NodeJS.ProcessEnv = process.env,
) {
  return {
    /** Never throws for the hook's failures: they are outcomes the workflow records. */
    async askDecisionHook(request: DecisionHookRequest): Promise<HookOutcome> {
      const extra = hookHeaders(request.headers, env);
      if ('missing' in extra) return { answered: false, why: extra.missing };
      const started = Date.now();
      const kinds = Object.fromEntries(Object.entries(request.targets).map(([name, t]) => [name, t.kind]));
      let response: Response;
      try {
        response = await fetchImpl(request.url, {
          method: 'POST',
          headers: { ...extra.headers, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({
            callId: request.callId,
            rule: request.rule,
            facts: request.facts,
            deadlineMs: request.timeoutMs,
            targets: kinds,
          }),
          signal: AbortSignal.timeout(request.timeoutMs),
          redirect: 'error',
        });
      } catch (error) {
        const timedOut =
          (error as Error).name === 'TimeoutError' || Date.now() - started >= request.timeoutMs;
        return {
          answered: false,
          why: timedOut
            ? `the hook did not answer within ${request.timeoutMs} ms`
            : `the hook is unreachable: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
        };
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        return {
          answered: false,
          why: timedOut
            ? `the hook did not finish its answer within ${request.timeoutMs} ms`
            : `the hook's answer could not be read: ${(error as Error).message}`,
        };
      }
      if (!response.ok) return { answered: false, why: `the hook answered HTTP ${response.status}` };
      if (text.length > MAX_ANSWER_BYTES)
        return { answered: false, why: `the hook's answer is over ${MAX_ANSWER_BYTES} bytes` };
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return { answered: false, why: 'the hook answered something that is not JSON' };
      }
      return checkHookAnswer(body, request.targets);
    },
  };
}

export type RoutingActivities = ReturnType<typeof createRoutingActivities>;
