import { z } from 'zod';

/**
 * `@odata.type` values arrive as `#microsoft.graph.call` in most seeds and as
 * `microsoft.graph.commsNotifications` (no `#`) in the participant-invite page (seed 001).
 * Both mean the same thing: compare the bare type name.
 */
export function odataTypeName(value: string): string {
  return value.replace(/^#/, '').replace(/^microsoft\.graph\./i, '');
}

/** Accepts `#microsoft.graph.<name>` or `microsoft.graph.<name>` for one of the given names. */
export function odataTypeOf(...names: string[]) {
  const allowed = new Set(names.map((name) => name.toLowerCase()));
  return z
    .string()
    .refine((value) => allowed.has(odataTypeName(value).toLowerCase()), {
      message: `expected @odata.type ${names.map((name) => `#microsoft.graph.${name}`).join(' or ')}`,
    })
    .optional();
}

/**
 * A string enum whose wire form varies in case: operation status is `running` in seed 000 and
 * `Running` in seed 001; call states are camelCase (`transferAccepted`). Normalises to the
 * canonical spelling given in `values`.
 */
export function caseInsensitiveEnum<const T extends readonly [string, ...string[]]>(values: T) {
  const canonical = new Map(values.map((value) => [value.toLowerCase(), value]));
  return z.string().transform((value, ctx): T[number] => {
    const match = canonical.get(value.toLowerCase());
    if (match === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected one of ${values.join(', ')}, got "${value}"` });
      return z.NEVER;
    }
    return match;
  });
}
