/**
 * Arbitrary deliveries of a sequence, as Graph and Temporal may make them: every item at least
 * once (Graph retries until acknowledged), some more than once (at-least-once delivery), in any
 * order (design.md, "Ordering and duplicates"). Reused to shuffle notifications for the reducer,
 * and at the workflow level per call or globally.
 */
import fc from 'fast-check';

export interface InterleavingOptions {
  /** The most extra copies of any one item (0: a plain permutation). Default 2. */
  maxDuplicates?: number;
}

/** One delivery: which item, and which copy of it. */
interface Delivery {
  item: number;
  copy: number;
  sortKey: number;
}

/**
 * Every permutation of `items`, with each item repeated 1 to 1 + maxDuplicates times. The
 * repeats are the same values (`===`), as a retried delivery carries the same notification.
 *
 * It shrinks towards the input order without duplicates: each delivery is placed by a sort key
 * and keys shrink to 0, which leaves ties in input order. A failure therefore reports the
 * smallest reordering that still fails.
 */
export function interleavingsOf<T>(
  items: readonly T[],
  options: InterleavingOptions = {},
): fc.Arbitrary<T[]> {
  const maxDuplicates = options.maxDuplicates ?? 2;
  if (!Number.isInteger(maxDuplicates) || maxDuplicates < 0) {
    throw new Error(`interleavingsOf: maxDuplicates must be a whole number >= 0, got ${maxDuplicates}`);
  }
  const copiesPerItem = maxDuplicates + 1;
  const slots = items.length * copiesPerItem;
  return fc
    .record({
      extraCopies: fc.array(fc.nat({ max: maxDuplicates }), {
        minLength: items.length,
        maxLength: items.length,
      }),
      sortKeys: fc.array(fc.nat({ max: 4 * Math.max(slots, 1) }), { minLength: slots, maxLength: slots }),
    })
    .map(({ extraCopies, sortKeys }) => {
      const deliveries: Delivery[] = [];
      items.forEach((_, item) => {
        for (let copy = 0; copy <= (extraCopies[item] ?? 0); copy++) {
          deliveries.push({ item, copy, sortKey: sortKeys[item * copiesPerItem + copy] ?? 0 });
        }
      });
      deliveries.sort((a, b) => a.sortKey - b.sortKey || a.item - b.item || a.copy - b.copy);
      return deliveries.map((delivery) => items[delivery.item] as T);
    });
}
