// The W3C trace context the workflow spans read from and write into Temporal headers
// (src/workflows/tracing/trace-context.ts), checked against OpenTelemetry's own propagator and id
// generator: what the workflow bundle carried before, and what the client, webhook and activities
// still use outside the sandbox.
import { context, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
// The browser build is the one the workflow bundle carried (webpack resolves `browser` fields).
import { RandomIdGenerator } from '@opentelemetry/sdk-trace-base/build/esm/platform/browser/RandomIdGenerator.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  carrierFor,
  isSampled,
  randomHexId,
  traceContextFrom,
} from '../src/workflows/tracing/trace-context.js';

const propagator = new W3CTraceContextPropagator();

/** What OpenTelemetry extracts from a carrier: the remote span context, if any. */
function otelExtract(carrier: Record<string, string>) {
  return trace.getSpanContext(propagator.extract(context.active(), carrier, defaultTextMapGetter));
}

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const traceparentParts = fc.record({
  version: fc.constantFrom('00', '01', 'fe', 'ff', '0g'),
  traceId: fc.oneof(hex(32), fc.constant('0'.repeat(32)), hex(31)),
  spanId: fc.oneof(hex(16), fc.constant('0'.repeat(16)), hex(17)),
  flags: fc.oneof(hex(2), fc.constant('1')),
  extra: fc.constantFrom('', '-what-comes-next'),
});

describe('traceContextFrom', () => {
  it('accepts and refuses the traceparent values OpenTelemetry does, with the same ids and flags', () => {
    fc.assert(
      fc.property(traceparentParts, ({ version, traceId, spanId, flags, extra }) => {
        const traceparent = `${version}-${traceId}-${spanId}-${flags}${extra}`;
        const ours = traceContextFrom({ traceparent });
        const theirs = otelExtract({ traceparent });
        if (theirs === undefined) expect(ours).toBeUndefined();
        else
          expect(ours).toEqual({
            traceId: theirs.traceId,
            spanId: theirs.spanId,
            traceFlags: theirs.traceFlags,
            isRemote: true,
          });
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps tracestate and baggage as received, and ignores a carrier that is not an object', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(traceContextFrom({ traceparent, tracestate: 'congo=t61rcWkgMzE', baggage: 'k=v' })).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
      traceState: 'congo=t61rcWkgMzE',
      baggage: 'k=v',
    });
    for (const carrier of [undefined, null, 'traceparent', 42, { traceparent: 7 }, {}])
      expect(traceContextFrom(carrier)).toBeUndefined();
  });
});

describe('carrierFor', () => {
  it('writes what OpenTelemetry writes for the same span context, and reads back what it wrote', () => {
    fc.assert(
      fc.property(hex(32), hex(16), fc.constantFrom(0, 1), (traceId, spanId, traceFlags) => {
        fc.pre(!/^0+$/.test(traceId) && !/^0+$/.test(spanId));
        const carrier: Record<string, string> = {};
        const active = trace.setSpanContext(context.active(), { traceId, spanId, traceFlags });
        propagator.inject(active, carrier, defaultTextMapSetter);
        expect(carrierFor({ traceId, spanId, traceFlags })).toEqual(carrier);
        expect(traceContextFrom(carrierFor({ traceId, spanId, traceFlags }))).toMatchObject({
          traceId,
          spanId,
          traceFlags,
        });
      }),
    );
  });

  it('is empty without a span context', () => {
    expect(carrierFor(undefined)).toEqual({});
  });
});

describe('isSampled', () => {
  it('samples a root, and a child only when its parent was sampled', () => {
    expect(isSampled(undefined)).toBe(true);
    expect(isSampled({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 })).toBe(true);
    expect(isSampled({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0 })).toBe(false);
  });
});

describe('randomHexId', () => {
  /** A seeded stream of numbers in [0, 1) and how many were drawn. */
  function stream(seed: number) {
    let state = seed >>> 0;
    const next = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      next.draws += 1;
      return state / 2 ** 32;
    };
    next.draws = 0;
    return next;
  }

  it("draws as many values as OpenTelemetry's generator and gives the same ids, so a workflow's later draws do not move", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const ours = stream(seed);
        const theirs = stream(seed);
        const generator = new RandomIdGenerator();
        const realRandom = Math.random;
        Math.random = theirs;
        let expected: string[];
        try {
          expected = [generator.generateSpanId(), generator.generateTraceId()];
        } finally {
          Math.random = realRandom;
        }
        expect([randomHexId(8, ours), randomHexId(16, ours)]).toEqual(expected);
        expect(ours.draws).toBe(theirs.draws);
        expect(ours()).toBe(theirs());
      }),
    );
  });
});
