/**
 * Matching an incoming call against the rules (docs/routing.md, "Matching"): pure functions of the
 * call's facts and a clock passed in, so they are unit- and property-tested without waiting for
 * a Tuesday. Rules are tried in order; the first whose every condition holds decides. A condition
 * left out matches anything; a list matches when any of its entries does.
 */
import { type CallNotification, type IdentitySet, primaryIdentity } from '../graph/index.js';
import type { CallFacts, RouteDecision } from '../workflows/route-call/definitions.js';
import type { Rule, RuleMatch, RuleSet, TimeWindow, Weekday } from './rule-file.js';

/** Every id an identity set carries (user, application instance, phone, …). */
function idsOf(identitySet: IdentitySet | null | undefined): string[] {
  if (!identitySet) return [];
  return Object.values(identitySet).flatMap((identity) => {
    const id = identity && typeof identity === 'object' ? (identity as { id?: unknown }).id : undefined;
    return typeof id === 'string' && id ? [id] : [];
  });
}

/** What the rules can see of an incoming call: its notification's caller, targets and tenant. */
export function callFactsOf(notification: CallNotification, receivedAt: Date): CallFacts {
  const { call } = notification;
  const caller = primaryIdentity(call.source?.identity);
  return {
    callId: notification.callId,
    caller: caller
      ? {
          kind: caller.kind,
          id: caller.id,
          ...(caller.displayName ? { displayName: caller.displayName } : {}),
          ...(caller.tenantId ? { tenantId: caller.tenantId } : {}),
        }
      : {},
    called: (call.targets ?? []).flatMap((target) => idsOf(target.identity)),
    ...(call.tenantId ? { tenantId: call.tenantId } : {}),
    receivedAt: receivedAt.toISOString(),
  };
}

const weekdayOf: Record<string, Weekday> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

/** The weekday and minute of the day at `now` in `timeZone` (Intl, so daylight saving is right). */
export function localTime(now: Date, timeZone: string): { day: Weekday; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    day: weekdayOf[part('weekday')] ?? 'mon',
    minute: Number(part('hour')) * 60 + Number(part('minute')),
  };
}

const minutesOf = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/**
 * Whether `now` falls in the window: from `from` (inclusive) to `to` (exclusive), local time. A
 * window past midnight (`22:00`-`06:00`) belongs to the day it starts on: `days: [fri]` covers
 * Friday 22:00 to Saturday 06:00. `from` = `to` is the whole day.
 */
export function inTimeWindow(window: TimeWindow, now: Date): boolean {
  const { day, minute } = localTime(now, window.timeZone);
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  const days = window.days;
  if (from === to) return !days || days.includes(day);
  if (from < to) return minute >= from && minute < to && (!days || days.includes(day));
  if (minute >= from) return !days || days.includes(day);
  if (minute < to) {
    if (!days) return true;
    const order = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
    const yesterday = order[(order.indexOf(day) + 6) % 7] as Weekday;
    return days.includes(yesterday);
  }
  return false;
}

/** Every condition the rule names holds for the call at `now`. */
export function ruleMatches(match: RuleMatch, facts: CallFacts, now: Date): boolean {
  const lower = (text: string) => text.toLowerCase();
  if (match.called && !match.called.some((id) => facts.called.some((called) => lower(called) === lower(id))))
    return false;
  if (match.callerType && !match.callerType.includes((facts.caller.kind ?? 'anonymous') as never))
    return false;
  if (match.callerTenant) {
    const tenant = facts.caller.tenantId;
    if (!tenant || !match.callerTenant.some((id) => lower(id) === lower(tenant))) return false;
  }
  if (match.phonePrefix) {
    const phone = facts.caller.kind === 'phone' ? facts.caller.id : undefined;
    if (!phone || !match.phonePrefix.some((prefix) => phone.startsWith(prefix))) return false;
  }
  if (match.time && !inTimeWindow(match.time, now)) return false;
  return true;
}

function describeMatch(rule: Rule): string {
  const conditions = Object.keys(rule.match);
  return conditions.length > 0 ? `matched ${conditions.join(', ')}` : 'matches every call';
}

/** First match wins; no match: the rule set's default action. */
export function decideRoute(ruleSet: RuleSet, facts: CallFacts, now: Date): RouteDecision {
  const index = ruleSet.rules.findIndex((rule) => ruleMatches(rule.match, facts, now));
  const rule = ruleSet.rules[index];
  if (!rule) return { rule: 'default', why: 'no rule matched', action: ruleSet.default };
  const why = `rule ${index} "${rule.name}" ${describeMatch(rule)}`;
  if (rule.action.kind === 'ask') {
    const { url, timeoutMs, fallback, headers } = rule.action;
    return {
      rule: rule.name,
      why,
      action: { kind: 'ask', ask: { url, timeoutMs, fallback, ...(headers ? { headers } : {}) } },
    };
  }
  return { rule: rule.name, why, action: rule.action };
}
