/**
 * Order-independence of the call-state reducer (design.md, "Ordering and duplicates"): any
 * permutation of the seed sequences, with any notification delivered more than once, folds to
 * the state of the in-order fold. Only `notificationsSeen`, which counts deliveries, may differ.
 *
 * HANDOFF_PROPERTY_RUNS raises the number of runs per property (default 200).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CommsOperation, GraphNotification } from '../src/graph/index.js';
import {
  applyNotification,
  type CallsState,
  emptyCallsState,
  recordOperation,
} from '../src/workflows/call-state.js';
import { prototypeChanges, prototypeMemberIds, prototypeSnapshot } from './support/hostile-ids.js';
import { interleavingsOf } from './support/interleavings.js';
import {
  labelledSeedNotifications,
  type SeedSection,
  seed001ReplacingSection,
  seed003InviteExamples,
  seedSectionOperationResponses,
} from './support/seed-notifications.js';

function propertyRuns(): number {
  const text = process.env.HANDOFF_PROPERTY_RUNS;
  if (text === undefined || text === '') return 200;
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`HANDOFF_PROPERTY_RUNS must be a whole number >= 1, got "${text}"`);
  }
  return runs;
}

const numRuns = propertyRuns();

/**
 * What the workflow folds: Graph's notifications, and the invite's HTTP response it records
 * itself. Each prints as its seed reference (`000:321`), so a counterexample reads as a delivery
 * order rather than pages of JSON.
 */
type DeliveryEvent =
  | { kind: 'notification'; notification: GraphNotification }
  | { kind: 'response'; callId: string; operation: CommsOperation };
type Delivery = DeliveryEvent & { ref: string };

function delivery(ref: string, event: DeliveryEvent): Delivery {
  return Object.assign({ ...event, ref }, { [fc.toStringMethod]: () => ref });
}

function notificationDeliveries(seed?: string, section?: SeedSection): Delivery[] {
  return labelledSeedNotifications(seed, section).map(({ ref, notification }) =>
    delivery(ref, { kind: 'notification', notification }),
  );
}

/**
 * An invite example's HTTP response and notifications. The response is recorded on the call the
 * operation notification names, as the workflow would (examples 1 and 4 post to `{id}`).
 */
function inviteDeliveries(section: SeedSection): Delivery[] {
  const notifications = notificationDeliveries('003', section);
  const operationNotification = notifications.find(
    (entry) => entry.kind === 'notification' && entry.notification.kind === 'operation',
  );
  if (operationNotification?.kind !== 'notification') {
    throw new Error(`no operation notification in "${section.from}"`);
  }
  const callId = operationNotification.notification.callId;
  const responses = seedSectionOperationResponses('003', section).map((operation) =>
    delivery(`response to ${section.from.split(':')[0]}`, { kind: 'response', callId, operation }),
  );
  return [...responses, ...notifications];
}

function fold(deliveries: readonly Delivery[]): CallsState {
  const state = emptyCallsState();
  for (const entry of deliveries) {
    if (entry.kind === 'notification') applyNotification(state, entry.notification);
    else recordOperation(state, entry.callId, entry.operation);
  }
  return state;
}

function withoutCounter(state: CallsState): Omit<CallsState, 'notificationsSeen'> {
  const { notificationsSeen: _, ...rest } = state;
  return rest;
}

const inviteExampleNumbers = [1, 2, 3, 4, 5] as const;

const sequences: Array<{ name: string; deliveries: () => Delivery[] }> = [
  { name: 'seed 000 (transfer walkthrough)', deliveries: () => notificationDeliveries('000') },
  {
    name: 'seed 001, replacing an existing peer-to-peer call',
    deliveries: () => notificationDeliveries('001', seed001ReplacingSection),
  },
  ...inviteExampleNumbers.map((number) => ({
    name: `seed 003, invite example ${number}`,
    deliveries: () => notificationDeliveries('003', seed003InviteExamples[number]),
  })),
  // One clientContext and two operation ids for five invites on three calls: the hardest
  // matching the pages offer.
  { name: 'seed 003, all invite examples together', deliveries: () => notificationDeliveries('003') },
  // The HTTP responses too: a notification may overtake the response that announces its operation.
  {
    name: 'seed 003, all invite examples with their HTTP responses',
    deliveries: () =>
      inviteExampleNumbers.flatMap((number) => inviteDeliveries(seed003InviteExamples[number])),
  },
  // Call and operation ids shared across pages, a participant id reported with two identities,
  // delta rosters, the lobby.
  { name: 'every notification of every seed page together', deliveries: () => notificationDeliveries() },
];

describe.each(sequences)('$name', ({ deliveries }) => {
  const inOrder = deliveries();
  const expected = withoutCounter(fold(inOrder));

  it('folds to the in-order state from any interleaving with duplicates', () => {
    fc.assert(
      fc.property(interleavingsOf(inOrder, { maxDuplicates: 2 }), (delivered) => {
        const state = fold(delivered);
        expect(state.notificationsSeen).toBe(
          delivered.filter((entry) => entry.kind === 'notification').length,
        );
        expect(withoutCounter(state)).toStrictEqual(expected);
      }),
      { numRuns },
    );
  });
});

/**
 * Ids are chosen by whoever posts a notification, so they may be names of Object.prototype
 * members (issue 9, item 4). The walkthrough of seed 000 with its ids renamed to such names, any
 * of them to any: the fold is still order-independent, keeps one call per distinct call id and
 * never touches Object.prototype.
 */
/** Seed 000's ids, each with the spellings the page uses (participant ids drop the dashes). */
const seed000Ids = {
  p2pCall: ['57DAB8B1894C409AB240BD8BEAE78896'],
  groupCall: ['90ED37DCD8E34E119DE330A955DDA06F'],
  inviteOperation: ['0FE0623FD62842EDB4BD8AC290072CC5'],
  caller: ['8A34A46B-3D17-4ADC-8DCE-DC4E7D572698', '8A34A46B3D174ADC8DCEDC4E7D572698'],
  bot: ['1234A46B-3D17-4ADC-8DCE-DC4E7D556789', '123456W77E24E4D85F80597083CB830'],
} as const;
type Seed000Role = keyof typeof seed000Ids;

function renamed(deliveries: readonly Delivery[], names: Record<Seed000Role, string>): Delivery[] {
  return deliveries.map((entry) => {
    let text = JSON.stringify(entry);
    for (const role of Object.keys(seed000Ids) as Seed000Role[]) {
      for (const spelling of seed000Ids[role]) text = text.replace(new RegExp(spelling, 'gi'), names[role]);
    }
    return delivery(entry.ref, JSON.parse(text) as DeliveryEvent);
  });
}

const prototypeMemberNames = fc.record({
  p2pCall: fc.constantFrom(...prototypeMemberIds),
  groupCall: fc.constantFrom(...prototypeMemberIds),
  inviteOperation: fc.constantFrom(...prototypeMemberIds),
  caller: fc.constantFrom(...prototypeMemberIds),
  bot: fc.constantFrom(...prototypeMemberIds),
});

describe('seed 000 with ids that name Object.prototype members', () => {
  const pristinePrototype = prototypeSnapshot();

  it('folds to the in-order state from any interleaving, and Object.prototype stays as it was', () => {
    fc.assert(
      fc.property(
        prototypeMemberNames.chain((names) => {
          const inOrder = renamed(notificationDeliveries('000'), names);
          return fc.tuple(
            fc.constant(names),
            fc.constant(inOrder),
            interleavingsOf(inOrder, { maxDuplicates: 2 }),
          );
        }),
        ([names, inOrder, delivered]) => {
          const expected = withoutCounter(fold(inOrder));
          const state = fold(delivered);
          // toEqual, not toStrictEqual: the latter compares `.constructor`, here a call's own key.
          expect(withoutCounter(state)).toEqual(expected);
          const callKeys = new Set([names.p2pCall, names.groupCall].map((id) => id.toLowerCase()));
          expect(Object.keys(state.calls).sort()).toEqual([...callKeys].sort());
          expect(state.operations.map((operation) => operation.operationId)).toEqual([names.inviteOperation]);
          expect(prototypeChanges(pristinePrototype)).toEqual([]);
        },
      ),
      { numRuns },
    );
  });
});

describe('seed 003 invites with their HTTP responses, in page order', () => {
  it('keep one record per operation of each call', () => {
    const state = fold(
      inviteExampleNumbers.flatMap((number) => inviteDeliveries(seed003InviteExamples[number])),
    );
    expect(
      state.operations.map(({ callId, operationId, status }) => ({ callId, operationId, status })),
    ).toEqual([
      {
        callId: '7531d31f-d10d-44de-802f-c569dbca451c',
        operationId: 'eec3812a-fdc3-4fb4-825c-a06c9f35414e',
        status: 'completed',
      },
      {
        callId: 'ab6233a5-20b7-4c5e-bea2-ce56c9776429',
        operationId: '278405a3-f568-4b3e-b684-009193463064',
        status: 'completed',
      },
      {
        callId: 'ab6233a5-20b7-4c5e-bea2-ce56c9776429',
        operationId: 'eec3812a-fdc3-4fb4-825c-a06c9f35414e',
        status: 'completed',
      },
    ]);
  });
});

describe('interleavingsOf', () => {
  it('delivers every item at least once and at most 1 + maxDuplicates times', () => {
    const items = ['a', 'b', 'c', 'd'];
    fc.assert(
      fc.property(interleavingsOf(items, { maxDuplicates: 3 }), (delivered) => {
        for (const item of items) {
          const copies = delivered.filter((candidate) => candidate === item).length;
          expect(copies).toBeGreaterThanOrEqual(1);
          expect(copies).toBeLessThanOrEqual(4);
        }
        expect(delivered.every((item) => items.includes(item))).toBe(true);
      }),
      { numRuns },
    );
  });

  it('reaches orders other than the input order', () => {
    const orders = fc
      .sample(interleavingsOf([1, 2, 3], { maxDuplicates: 0 }), { numRuns: 200, seed: 42 })
      .map((order) => order.join(''));
    expect(new Set(orders)).toEqual(new Set(['123', '132', '213', '231', '312', '321']));
  });

  it('refuses a maxDuplicates that is not a whole number >= 0', () => {
    expect(() => interleavingsOf([1], { maxDuplicates: -1 })).toThrow(
      /maxDuplicates must be a whole number >= 0/,
    );
    expect(() => interleavingsOf([1], { maxDuplicates: 1.5 })).toThrow(/maxDuplicates/);
  });
});
