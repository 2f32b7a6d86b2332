import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { fastParser, MISS } from '../../functions/http/fast-parse.js';
import type { RouteSpec, Schema } from '../../functions/http/route.js';
import { ROUTES } from '../../functions/routes.js';
import { resolveRequestSchema } from '../../lib/resolution/request.js';

/** Every JSON body and query schema of the route table. */
const requestSchemas: Array<[string, Schema]> = ROUTES.flatMap((route) => {
  const request = (route as RouteSpec).request;
  const out: Array<[string, Schema]> = [];
  if (request?.body && typeof request.body === 'object') out.push([`${route.method} ${route.path} body`, request.body]);
  if (request?.query) out.push([`${route.method} ${route.path} query`, request.query]);
  return out;
});

/** Values near every check the schemas have: lengths at the limits, enum members, ids, wrong types. */
const CONSTANTS: unknown[] = [
  ...['job', 'service', 'workspace', 'JOB', '', 'true', '1', 'yes', 'c-1', 'c:1.a_b', '-bad', 'a b', '__proto__', 'constructor'],
  ...[1, 255, 256, 257, 319, 320, 321].map((n) => 'x'.repeat(n)),
  // zod counts code points: astral characters are two UTF-16 units each
  ...['😀', '😀😀', '😀'.repeat(200), '😀'.repeat(256), 'x' + '😀'.repeat(160)],
  0,
  true,
  null,
  [],
  {},
];
const value = fc.oneof(
  fc.constantFrom(...CONSTANTS),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
);

const shapeOf = (schema: Schema): Record<string, Schema> => (schema as unknown as { _zod: { def: { shape?: Record<string, Schema> } } })._zod.def.shape ?? {};

function inputs(schema: Schema): fc.Arbitrary<unknown> {
  const shape = shapeOf(schema);
  const keys = Object.keys(shape);
  const shaped = fc.record(Object.fromEntries(keys.map((k) => [k, value])), { requiredKeys: [] });
  // Mostly valid: each field from the constants its own schema accepts (when any), so both answers are seen.
  const valid = fc.record(
    Object.fromEntries(
      keys.map((k) => {
        const good = CONSTANTS.filter((c) => z.safeParse(shape[k]!, c).success);
        return [k, good.length ? fc.oneof(fc.constantFrom(...good), fc.constantFrom(...good), value) : value];
      }),
    ),
    { requiredKeys: [] },
  );
  const extra = fc.tuple(fc.oneof(shaped, valid), fc.constantFrom('extra', '__proto__', 'constructor', 'toString'), value).map(([o, k, v]) =>
    // via JSON.parse, so `__proto__` is an own key as in a request body
    JSON.parse(JSON.stringify({ ...o, [k === '__proto__' ? '__proto_placeholder__' : k]: v }).replace('__proto_placeholder__', '__proto__')),
  );
  return fc.oneof(shaped, valid, valid, extra, value);
}

describe('fast request parsing (functions/http/fast-parse.ts)', () => {
  it('the resolve body has a fast path, and it is taken for valid launches', () => {
    const fast = fastParser(resolveRequestSchema)!;
    expect(fast).not.toBeNull();
    const launch = { workload_type: 'job', project: 'p', user: 'u@example.com', cluster_id: 'c-1' };
    expect(fast(launch)).toStrictEqual(z.parse(resolveRequestSchema, launch));
    expect(fast({ workload_type: 'job', project: 'p', user: 'u' })).toStrictEqual({ workload_type: 'job', project: 'p', user: 'u' });
    expect(fast({ workload_type: 'job', project: 'p', user: 'u', extra: 1 })).toBe(MISS);
    expect(fast(JSON.parse('{"workload_type":"job","project":"p","user":"u","__proto__":{}}'))).toBe(MISS);
  });

  for (const [name, schema] of requestSchemas) {
    it(`${name}: a fast answer is zod's answer (same keys in the same order, same values)`, () => {
      const fast = fastParser(schema);
      if (fast === null) return; // no fast path: zod parses every input
      let hits = 0;
      fc.assert(
        fc.property(inputs(schema), (raw) => {
          const answer = fast(raw);
          const parsed = z.safeParse(schema, raw);
          if (answer === MISS) return; // zod decides (and names the problems)
          hits++;
          expect(parsed.success).toBe(true);
          expect(answer).toStrictEqual(parsed.data);
          expect(Object.keys(answer as object)).toEqual(Object.keys(parsed.data as object));
        }),
        { numRuns: 400 },
      );
      expect(hits).toBeGreaterThan(0);
    });
  }

  it('schemas with parts it does not know get no fast path', () => {
    expect(fastParser(z.object({ n: z.number() }))).toBeNull();
    expect(
      fastParser(
        z.object({
          s: z.pipe(
            z.string(),
            z.transform((s) => s.trim()),
          ),
        }),
      ),
    ).toBeNull();
    expect(fastParser(z.object({ s: z.string().check(z.refine((s) => s !== 'x')) }))).toBeNull();
    expect(fastParser(z.object({ s: z._default(z.string(), 'd') }))).toBeNull();
    expect(fastParser(z.looseObject({ s: z.string() }))).toBeNull();
    const conditional = z.minLength(1);
    (conditional._zod.def as { when?: unknown }).when = () => true;
    expect(fastParser(z.object({ s: z.string().check(conditional) }))).toBeNull();
  });

  it('lengths in code points, as zod counts them', () => {
    const fast = fastParser(z.object({ s: z.string().check(z.minLength(2), z.maxLength(3)) }))!;
    for (const s of ['😀', 'ab', '😀😀', 'abc', '😀😀😀', 'abcd', 'a😀']) {
      const answer = fast({ s });
      const parsed = z.safeParse(z.object({ s: z.string().check(z.minLength(2), z.maxLength(3)) }), { s });
      if (answer !== MISS) expect(parsed).toMatchObject({ success: true, data: { s } });
    }
    expect(fast({ s: '😀' })).toBe(MISS); // one code point: too short for zod, though two units
  });
});
