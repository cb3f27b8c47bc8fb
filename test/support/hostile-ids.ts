/**
 * Ids that name Object.prototype members. Whoever posts a notification chooses its ids, so these
 * must be ordinary ids everywhere Handoff keys state by them (issue 9, item 4): `constructor` as a
 * call id once found Object's constructor, `__proto__` as a participant id wrote onto the
 * prototype every workflow on a worker shares.
 */
export const prototypeMemberIds = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
] as const;

/** Object.prototype's own members now, to compare with later: `prototypeIsUnchanged(snapshot)`. */
export function prototypeSnapshot(): Array<{
  key: string | symbol;
  descriptor: PropertyDescriptor | undefined;
}> {
  return Reflect.ownKeys(Object.prototype).map((key) => ({
    key,
    descriptor: Object.getOwnPropertyDescriptor(Object.prototype, key),
  }));
}

/** The differences between Object.prototype now and a snapshot; empty when nothing changed. */
export function prototypeChanges(snapshot: ReturnType<typeof prototypeSnapshot>): string[] {
  const changes: string[] = [];
  const now = prototypeSnapshot();
  for (const { key } of now) {
    if (!snapshot.some((entry) => entry.key === key)) changes.push(`added ${String(key)}`);
  }
  for (const { key, descriptor } of snapshot) {
    const current = Object.getOwnPropertyDescriptor(Object.prototype, key);
    if (
      current?.value !== descriptor?.value ||
      current?.get !== descriptor?.get ||
      current?.set !== descriptor?.set
    ) {
      changes.push(`changed ${String(key)}`);
    }
  }
  const probe: Record<string, unknown> = {};
  for (const member of ['polluted', 'callId', 'roster', 'identity', 'key', 'joined', 'state', 'status']) {
    if (probe[member] !== undefined) changes.push(`({}).${member} is ${JSON.stringify(probe[member])}`);
  }
  return changes;
}
