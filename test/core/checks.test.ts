import fc from 'fast-check';
import { PROFILES } from '../../lib/core/profiles';
import { compileChecks, type FieldCheck, validateFields } from '../../lib/core/profiles/checks';
import { panel, unicorn } from '../support/records';

const now = Date.UTC(2026, 10, 22, 12, 0, 0);

/** Values near each check's edges: empty, at and past the length, lone and paired surrogates, ±0, limits. */
function edgeValue(check: FieldCheck): fc.Arbitrary<unknown> {
  const common = fc.oneof(fc.jsonValue(), fc.constantFrom(undefined, null, Number.NaN, Infinity, -Infinity, -0));
  if (check.kind === 'string') {
    const n = check.maxLength;
    return fc.oneof(
      common,
      fc.constantFrom(...(check.values ?? ['OK'])),
      fc.string({ minLength: 0, maxLength: 2 * n + 2, unit: 'binary' }),
      fc.constantFrom('', 'x'.repeat(n), 'x'.repeat(n + 1), '😀'.repeat(n), '😀'.repeat(n + 1), '\ud83d', 'a\udc00b'),
    );
  }
  return fc.oneof(
    common,
    fc.double(),
    fc.integer(),
    fc.constantFrom(check.min, check.max, check.min - 1, check.max + 1, check.min + 0.5, check.max - 0.5),
  );
}

describe('compiled field checks', () => {
  for (const profile of PROFILES) {
    const compiled = compileChecks(profile.fields);
    const base = profile.name === 'solar' ? panel('SP-1', now, 1) : unicorn('A', now);

    test(`give ${profile.name}'s reference validateFields reason for every field value`, () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.constantFrom(...profile.fields).chain((c) => edgeValue(c).map((v) => [c.field, v] as const)),
            { maxLength: 3 },
          ),
          fc.boolean(),
          (overrides, drop) => {
            const obj: Record<string, unknown> = { ...base };
            for (const [field, value] of overrides) {
              if (drop && value === undefined) delete obj[field];
              else obj[field] = value;
            }
            expect(compiled(obj)).toBe(validateFields(obj, profile.fields));
          },
        ),
        { numRuns: 5000 },
      );
    });
  }

  test('a valid record passes and the first failing field is named', () => {
    const compiled = compileChecks(PROFILES[0].fields);
    expect(compiled(unicorn('A', now))).toBeUndefined();
    expect(compiled({ ...unicorn('A', now), Latitude: '40', HealthPoints: 1.5 })).toBe('wrong_type:Latitude');
  });
});
