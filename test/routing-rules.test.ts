// The routing rule file, the matcher and the reloadable store, without Temporal (docs/routing.md):
// what a bad file is told, time windows under a clock passed in, and properties of first match.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHookAnswer, createRoutingActivities } from '../src/activities/decision-hook.js';
import { ConfigError, loadConfig } from '../src/config/env.js';
import { decideRoute, inTimeWindow, ruleMatches } from '../src/routing/match.js';
import {
  parseRuleFile,
  RoutingRulesError,
  type Rule,
  type RuleSet,
  ruleSetFrom,
} from '../src/routing/rule-file.js';
import { loadRuleFile, RoutingRules } from '../src/routing/rules-store.js';
import type { CallFacts } from '../src/workflows/route-call/definitions.js';

const dir = mkdtempSync(join(tmpdir(), 'handoff-routing-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileWith(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(document: unknown): string[] {
  try {
    ruleSetFrom(document, 'rules.yaml');
  } catch (error) {
    if (error instanceof RoutingRulesError) return error.problems;
    throw error;
  }
  throw new Error('expected a RoutingRulesError');
}

const frontDesk = { identity: { user: { id: 'front-desk-id', displayName: 'Front Desk' } } };
const meeting = {
  transfer: {
    kind: 'joinMeetingId',
    joinMeetingId: '1234567890',
    passcode: 'abc',
  },
};

const facts = (overrides: Partial<CallFacts> = {}): CallFacts => ({
  callId: 'call-1',
  caller: { kind: 'user', id: 'caller-id', tenantId: 'tenant-a' },
  called: ['bot-app-id'],
  receivedAt: '2026-12-04T10:00:00.000Z',
  ...overrides,
});

describe('the rule file', () => {
  it('loads the example the docs and the demo use', () => {
    const ruleSet = loadRuleFile('examples/routing-rules.yaml');
    expect(ruleSet.rules.map((rule) => rule.name)).toEqual([
      'blocked-prefix',
      'after-hours',
      'guests',
      'colleagues',
    ]);
    expect(ruleSet.version).toBe('2026-12-04.1');
    expect(ruleSet.default).toEqual({ kind: 'reject', reason: 'busy' });
    expect(ruleSet.targets['front-desk']?.kind).toBe('participant');
    expect(ruleSet.targets['support-meeting']?.kind).toBe('transfer');
  });

  it('takes JSON as well, and rejects every call no rule matches by default', () => {
    const ruleSet = parseRuleFile(JSON.stringify({ rules: [] }), 'rules.json');
    expect(ruleSet.default).toEqual({ kind: 'reject', reason: 'none' });
    expect(decideRoute(ruleSet, facts(), new Date())).toEqual({
      rule: 'default',
      why: 'no rule matched',
      action: { kind: 'reject', reason: 'none' },
    });
  });

  it('refuses a rule that names an unknown target, naming the rule and the field', () => {
    expect(
      problemsOf({
        targets: { 'front-desk': frontDesk },
        rules: [
          { name: 'ok', action: { kind: 'redirect', targets: ['front-desk'] } },
          { name: 'vip', action: { kind: 'blindTransfer', target: 'nobody' } },
        ],
      }),
    ).toEqual(['rules[1] ("vip"): action.target: unknown target "nobody" (targets: front-desk)']);
  });

  it("refuses an ask's headers that carry a secret instead of naming a variable, or set what Handoff sets", () => {
    const ask = (headers: Record<string, string>) => ({
      rules: [
        {
          name: 'hook',
          action: { kind: 'ask', url: 'http://127.0.0.1:1/route', fallback: { kind: 'reject' }, headers },
        },
      ],
    });
    expect(problemsOf(ask({ authorization: 'Bearer s3cr3t' }))).toEqual([
      'rules[0] ("hook"): action.headers.authorization: a header value names an environment variable (e.g. CRM_HOOK_TOKEN), never the secret itself',
    ]);
    expect(problemsOf(ask({ 'Content-Type': 'TEXT' }))).toEqual([
      'rules[0] ("hook"): action.headers.Content-Type: a hook may not set content-type, accept, content-length, host: Handoff sets them',
    ]);
    const ruleSet = ruleSetFrom(ask({ authorization: 'CRM_HOOK_AUTHORIZATION' }), 'rules.yaml');
    expect(decideRoute(ruleSet, facts(), new Date()).action).toMatchObject({
      kind: 'ask',
      ask: { headers: { authorization: 'CRM_HOOK_AUTHORIZATION' } },
    });
  });

  it("refuses a target of the wrong kind, and an ask's fallback and the default are checked too", () => {
    expect(
      problemsOf({
        targets: { 'front-desk': frontDesk, sales: meeting },
        rules: [
          { name: 'to-party', action: { kind: 'transfer', target: 'front-desk' } },
          {
            name: 'hook',
            action: {
              kind: 'ask',
              url: 'http://127.0.0.1:1/route',
              fallback: { kind: 'redirect', targets: ['sales'] },
            },
          },
        ],
        default: { kind: 'blindTransfer', target: 'ghost' },
      }),
    ).toEqual([
      'rules[0] ("to-party"): action.target: target "front-desk" is a party ({ identity }); a transfer needs a meeting or group call ({ transfer })',
      'rules[1] ("hook"): action.fallback.targets[0]: target "sales" is a meeting or group call ({ transfer }); redirect needs a party ({ identity })',
      'default.target: unknown target "ghost" (targets: front-desk, sales)',
    ]);
  });

  it('names the rule and field of every schema problem', () => {
    const problems = problemsOf({
      rules: [
        { name: 'ok', action: { kind: 'reject' } },
        {
          name: 'night',
          match: { time: { timeZone: 'Mars/Olympus', from: '25:00', to: '08:00' } },
          action: { kind: 'reject' },
        },
        {
          name: 'slow',
          action: { kind: 'ask', url: 'http://h/x', timeoutMs: 20_000, fallback: { kind: 'reject' } },
        },
        { name: 'ok', action: { kind: 'teleport' } },
      ],
    });
    expect(problems).toContain(
      'rules[1] ("night"): match.time.timeZone: timeZone must be an IANA time zone such as Europe/Berlin',
    );
    expect(problems).toContain('rules[1] ("night"): match.time.from: a time of day is HH:MM, 00:00 to 23:59');
    expect(problems).toContain(
      'rules[2] ("slow"): action.timeoutMs: timeoutMs must be at most 10000 (Graph\'s 15 s window)',
    );
    expect(problems.some((problem) => problem.startsWith('rules[3] ("ok"): action.kind'))).toBe(true);
  });

  it('refuses two rules of the same name', () => {
    expect(
      problemsOf({
        rules: [
          { name: 'a', action: { kind: 'reject' } },
          { name: 'a', action: { kind: 'reject' } },
        ],
      }),
    ).toEqual(['rules[1] ("a"): name: another rule is named "a"']);
  });

  it('says when the text is neither JSON nor YAML', () => {
    expect(() => parseRuleFile('rules: [\n  - {', 'broken.yaml')).toThrow(
      /invalid routing rules in broken.yaml:\n {2}- not JSON or YAML/,
    );
  });

  it('stops the configuration with HANDOFF_ROUTING_RULES, the rule and the field', () => {
    const path = fileWith(
      'bad.yaml',
      'rules:\n  - name: vip\n    action: { kind: transfer, target: gold-room }\n',
    );
    let problems: string[] = [];
    try {
      loadConfig({ HANDOFF_ROUTING_RULES: path });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    expect(problems).toEqual([
      `HANDOFF_ROUTING_RULES (${path}): rules[0] ("vip"): action.target: unknown target "gold-room" (targets: none defined)`,
    ]);
    const missing = join(dir, 'missing.yaml');
    expect(() => loadConfig({ HANDOFF_ROUTING_RULES: missing })).toThrow(
      `HANDOFF_ROUTING_RULES (${missing}): cannot read the file`,
    );
  });

  it('is not read when HANDOFF_ROUTING_RULES is unset: incoming calls go to the default target as before', () => {
    expect(loadConfig({}).routing).toBeUndefined();
    expect(
      loadConfig({ HANDOFF_ROUTING_RULES: 'examples/routing-rules.yaml' }).routing?.ruleSet.rules,
    ).toHaveLength(4);
  });
});

describe('reloading', () => {
  it('keeps the rules in force when the new file is invalid, and says why', () => {
    const path = fileWith(
      'reload.yaml',
      'version: one\nrules: [{ name: first, action: { kind: reject } }]\n',
    );
    let now = new Date('2026-12-04T10:00:00Z');
    const rules = new RoutingRules(path, loadRuleFile(path), () => now);

    now = new Date('2026-12-04T10:05:00Z');
    writeFileSync(
      path,
      'version: two\nrules: [{ name: second, action: { kind: blindTransfer, target: nobody } }]\n',
    );
    const refused = rules.reload();
    expect(refused.ok).toBe(false);
    expect(rules.current().version).toBe('one');
    expect(rules.current().rules[0]?.name).toBe('first');
    expect(rules.snapshot()).toMatchObject({
      version: 'one',
      loadedAt: '2026-12-04T10:00:00.000Z',
      lastReloadError: { at: '2026-12-04T10:05:00.000Z' },
    });
    expect(rules.snapshot().lastReloadError?.message).toContain(
      'rules[0] ("second"): action.target: unknown target "nobody"',
    );

    now = new Date('2026-12-04T10:10:00Z');
    writeFileSync(path, 'version: three\nrules: [{ name: third, action: { kind: reject, reason: busy } }]\n');
    const reloaded = rules.reload();
    expect(reloaded.ok).toBe(true);
    expect(rules.current().rules[0]?.name).toBe('third');
    expect(rules.snapshot()).toEqual(
      expect.objectContaining({ version: 'three', loadedAt: '2026-12-04T10:10:00.000Z' }),
    );
    expect(rules.snapshot().lastReloadError).toBeUndefined();
  });
});

describe('time windows (a clock passed in)', () => {
  const office = {
    timeZone: 'Europe/Berlin',
    days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const,
    from: '08:00',
    to: '18:00',
  };

  it('reads the local time of the zone, daylight saving included', () => {
    // Friday 4 Dec 2026, winter: Berlin is UTC+1.
    expect(inTimeWindow({ ...office, days: [...office.days] }, new Date('2026-12-04T06:59:00Z'))).toBe(false);
    expect(inTimeWindow({ ...office, days: [...office.days] }, new Date('2026-12-04T07:00:00Z'))).toBe(true);
    expect(inTimeWindow({ ...office, days: [...office.days] }, new Date('2026-12-04T16:59:00Z'))).toBe(true);
    expect(inTimeWindow({ ...office, days: [...office.days] }, new Date('2026-12-04T17:00:00Z'))).toBe(false);
    // Friday 3 Jul 2026, summer: UTC+2.
    expect(inTimeWindow({ ...office, days: [...office.days] }, new Date('2026-07-03T06:00:00Z'))).toBe(true);
    expect(inTimeWindow({ ...office, days: [...office.days] }, new Date('2026-07-03T05:59:00Z'))).toBe(false);
    // Saturday.
    expect(inTimeWindow({ ...office, days: [...office.days] }, new Date('2026-12-05T10:00:00Z'))).toBe(false);
  });

  it('runs a window past midnight on the day it starts', () => {
    const fridayNight = { timeZone: 'America/New_York', days: ['fri' as const], from: '22:00', to: '06:00' };
    // Friday 23:30 and Saturday 05:59 in New York (UTC-5) are in; Saturday 06:00 and Friday 05:00 are not.
    expect(inTimeWindow(fridayNight, new Date('2026-12-05T04:30:00Z'))).toBe(true);
    expect(inTimeWindow(fridayNight, new Date('2026-12-05T10:59:00Z'))).toBe(true);
    expect(inTimeWindow(fridayNight, new Date('2026-12-05T11:00:00Z'))).toBe(false);
    expect(inTimeWindow(fridayNight, new Date('2026-12-04T10:00:00Z'))).toBe(false);
  });

  it('matches a rule only inside its window', () => {
    const ruleSet = ruleSetFrom(
      {
        targets: { night: frontDesk },
        rules: [
          {
            name: 'after-hours',
            match: { time: { timeZone: 'Asia/Tokyo', from: '18:00', to: '09:00' } },
            action: { kind: 'redirect', targets: ['night'] },
          },
        ],
      },
      'rules.yaml',
    );
    // 20:00 and 08:59 in Tokyo (UTC+9); 12:00 is office time.
    expect(decideRoute(ruleSet, facts(), new Date('2026-12-04T11:00:00Z')).rule).toBe('after-hours');
    expect(decideRoute(ruleSet, facts(), new Date('2026-12-04T23:59:00Z')).rule).toBe('after-hours');
    expect(decideRoute(ruleSet, facts(), new Date('2026-12-04T03:00:00Z')).rule).toBe('default');
  });
});

describe('conditions', () => {
  const now = new Date('2026-12-04T10:00:00Z');
  it('called, caller type, caller tenant and phone prefix', () => {
    const phone = facts({ caller: { kind: 'phone', id: '+4930123456' } });
    expect(ruleMatches({ called: ['BOT-APP-ID'] }, facts(), now)).toBe(true);
    expect(ruleMatches({ called: ['other'] }, facts(), now)).toBe(false);
    expect(ruleMatches({ callerType: ['user'] }, facts(), now)).toBe(true);
    expect(ruleMatches({ callerType: ['guest', 'phone'] }, facts(), now)).toBe(false);
    expect(ruleMatches({ callerTenant: ['TENANT-A'] }, facts(), now)).toBe(true);
    expect(ruleMatches({ callerTenant: ['tenant-b'] }, facts(), now)).toBe(false);
    expect(ruleMatches({ callerTenant: ['tenant-a'] }, phone, now)).toBe(false);
    expect(ruleMatches({ phonePrefix: ['+49'] }, phone, now)).toBe(true);
    expect(ruleMatches({ phonePrefix: ['+1', '+44'] }, phone, now)).toBe(false);
    // A user's id is no phone number, whatever its digits.
    expect(ruleMatches({ phonePrefix: ['+49'] }, facts({ caller: { kind: 'user', id: '+49' } }), now)).toBe(
      false,
    );
    // Every condition must hold.
    expect(ruleMatches({ callerType: ['phone'], phonePrefix: ['+49'], called: ['other'] }, phone, now)).toBe(
      false,
    );
    expect(ruleMatches({}, phone, now)).toBe(true);
  });
});

describe('properties', () => {
  const callerKinds = ['user', 'phone', 'guest', 'application'] as const;
  const prefixes = ['+1', '+49', '+4930', '+44'] as const;
  const calledIds = ['bot', 'sales-line', 'support-line'] as const;

  const matchArb = fc.record(
    {
      called: fc.uniqueArray(fc.constantFrom(...calledIds), { minLength: 1 }),
      callerType: fc.uniqueArray(fc.constantFrom(...callerKinds), { minLength: 1 }),
      phonePrefix: fc.uniqueArray(fc.constantFrom(...prefixes), { minLength: 1 }),
    },
    { requiredKeys: [] },
  );
  const rulesArb = fc.array(matchArb, { maxLength: 6 }).map((matches) =>
    matches.map(
      (match, index): Rule => ({
        name: `rule-${index}`,
        match,
        action: { kind: 'reject', reason: 'busy' },
      }),
    ),
  );
  const factsArb = fc
    .record({
      kind: fc.constantFrom(...callerKinds),
      number: fc.constantFrom('+12025550100', '+4930123456', '+442071234567'),
      called: fc.uniqueArray(fc.constantFrom(...calledIds), { maxLength: 2 }),
    })
    .map(({ kind, number, called }) =>
      facts({ caller: { kind, id: kind === 'phone' ? number : 'someone' }, called: [...called] }),
    );

  /** An oracle written apart from the matcher: does this rule take this call? */
  function takes(rule: Rule, call: CallFacts): boolean {
    const { called, callerType, phonePrefix } = rule.match;
    if (called && !called.some((id) => call.called.includes(id))) return false;
    if (callerType && !callerType.includes(call.caller.kind as never)) return false;
    if (
      phonePrefix &&
      !(call.caller.kind === 'phone' && phonePrefix.some((p) => call.caller.id?.startsWith(p)))
    )
      return false;
    return true;
  }

  it('the first rule that takes the call decides; with none, the default does', () => {
    fc.assert(
      fc.property(rulesArb, factsArb, (rules, call) => {
        const ruleSet: RuleSet = { targets: {}, rules, default: { kind: 'reject', reason: 'none' } };
        const decision = decideRoute(ruleSet, call, new Date());
        const first = rules.find((rule) => takes(rule, call));
        expect(decision.rule).toBe(first ? first.name : 'default');
        expect(decision.action).toEqual(first ? first.action : ruleSet.default);
      }),
      { numRuns: 500 },
    );
  });

  it('a rule added after one that matches changes nothing; one that matches put first decides', () => {
    fc.assert(
      fc.property(rulesArb, factsArb, matchArb, (rules, call, extra) => {
        const ruleSet: RuleSet = { targets: {}, rules, default: { kind: 'reject', reason: 'none' } };
        const before = decideRoute(ruleSet, call, new Date());
        const appended: Rule = {
          name: 'appended',
          match: extra,
          action: { kind: 'reject', reason: 'forbidden' },
        };
        const after = decideRoute({ ...ruleSet, rules: [...rules, appended] }, call, new Date());
        if (before.rule !== 'default') expect(after).toEqual(before);
        const catchAll: Rule = { name: 'first', match: {}, action: { kind: 'reject', reason: 'forbidden' } };
        expect(decideRoute({ ...ruleSet, rules: [catchAll, ...rules] }, call, new Date()).rule).toBe('first');
      }),
      { numRuns: 300 },
    );
  });

  it('a window and its complement (same zone, swapped from/to) never both hold, and one always does', () => {
    const clock = fc
      .integer({ min: 0, max: 23 * 60 + 59 })
      .map((m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
    fc.assert(
      fc.property(
        clock,
        clock,
        fc.constantFrom('Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'UTC'),
        fc.date({
          min: new Date('2026-01-01T00:00:00Z'),
          max: new Date('2027-12-31T00:00:00Z'),
          noInvalidDate: true,
        }),
        (from, to, timeZone, now) => {
          fc.pre(from !== to);
          const inside = inTimeWindow({ timeZone, from, to }, now);
          const outside = inTimeWindow({ timeZone, from: to, to: from }, now);
          expect(inside).not.toBe(outside);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("the decision hook's answer", () => {
  const targets = ruleSetFrom(
    { targets: { 'front-desk': frontDesk, sales: meeting }, rules: [] },
    'r',
  ).targets;
  it('is taken when it names a known action and known targets of the right kind', () => {
    expect(checkHookAnswer({ action: { kind: 'transfer', target: 'sales' }, why: 'VIP' }, targets)).toEqual({
      answered: true,
      action: { kind: 'transfer', target: 'sales' },
      why: 'VIP',
    });
    expect(checkHookAnswer({ action: { kind: 'reject', reason: 'busy' } }, targets)).toEqual({
      answered: true,
      action: { kind: 'reject', reason: 'busy' },
    });
  });

  it('is refused, with the reason, when it is garbage, an unknown action or an unknown target', () => {
    expect(checkHookAnswer('yes', targets)).toMatchObject({ answered: false });
    expect(checkHookAnswer({ action: { kind: 'ask', url: 'http://x' } }, targets)).toMatchObject({
      answered: false,
    });
    expect(checkHookAnswer({ action: { kind: 'blindTransfer', target: 'ceo' } }, targets)).toEqual({
      answered: false,
      why: 'the hook answered an invalid decision: action.target: unknown target "ceo" (targets: front-desk, sales)',
    });
    expect(checkHookAnswer({ action: { kind: 'transfer', target: 'front-desk' } }, targets)).toMatchObject({
      answered: false,
    });
  });
});

describe('askDecisionHook (the activity, against a real HTTP server)', () => {
  const answers: Record<string, [number, string]> = {
    '/error': [500, '{"action":{"kind":"reject"}}'],
    '/text': [200, 'reject it'],
    '/huge': [200, JSON.stringify({ action: { kind: 'reject' }, why: 'x'.repeat(70_000) })],
    '/ok': [200, '{"action":{"kind":"blindTransfer","target":"front-desk"},"why":"VIP"}'],
  };
  /** The headers of the last request the hook was sent. */
  let lastHeaders: Record<string, unknown> = {};
  const server = createServer((request, response) => {
    lastHeaders = request.headers;
    request.resume();
    request.on('end', () => {
      const [status, body] = answers[request.url ?? ''] ?? [404, ''];
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  const ask = async (path: string, headers?: Record<string, string>, env: NodeJS.ProcessEnv = {}) => {
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return createRoutingActivities(fetch, env).askDecisionHook({
      ...(headers ? { headers } : {}),
      url: `http://127.0.0.1:${port}${path}`,
      timeoutMs: 2_000,
      callId: 'call-1',
      rule: 'hook',
      facts: facts(),
      targets: ruleSetFrom({ targets: { 'front-desk': frontDesk }, rules: [] }, 'r').targets,
    });
  };

  it('takes a valid answer, and refuses an error status, a body that is no JSON, and an oversized one', async () => {
    expect(await ask('/ok')).toEqual({
      answered: true,
      action: { kind: 'blindTransfer', target: 'front-desk' },
      why: 'VIP',
    });
    expect(await ask('/error')).toEqual({ answered: false, why: 'the hook answered HTTP 500' });
    expect(await ask('/text')).toEqual({
      answered: false,
      why: 'the hook answered something that is not JSON',
    });
    expect(await ask('/huge')).toEqual({ answered: false, why: "the hook's answer is over 65536 bytes" });
  });

  it("sends the rule's headers with their values from the worker's environment, and never asks without one", async () => {
    const headers = { authorization: 'CRM_HOOK_AUTHORIZATION', 'x-tenant': 'CRM_TENANT' };
    const env = { CRM_HOOK_AUTHORIZATION: 'Bearer from-the-environment', CRM_TENANT: 'contoso' };
    expect(await ask('/ok', headers, env)).toMatchObject({ answered: true });
    expect(lastHeaders).toMatchObject({
      authorization: 'Bearer from-the-environment',
      'x-tenant': 'contoso',
      'content-type': 'application/json',
    });
    lastHeaders = {};
    expect(await ask('/ok', headers, { CRM_TENANT: 'contoso' })).toEqual({
      answered: false,
      why: 'header authorization names the environment variable CRM_HOOK_AUTHORIZATION, which this worker does not have',
    });
    expect(lastHeaders).toEqual({});
  });
});
