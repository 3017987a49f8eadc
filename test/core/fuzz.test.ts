import fc from 'fast-check';
import { decodeBase64Record, decodeBytes, validateParsed } from '../../lib/core/decode';
import { unicorn } from '../support/records';

const now = Date.UTC(2026, 10, 22, 12, 0, 0);
const REASON =
  /^(invalid_utf8|invalid_json|too_large|unknown_profile|timestamp_in_future|timestamp_too_old|(missing_field|wrong_type|out_of_range):\w+)$/;

function expectResult(result: ReturnType<typeof decodeBytes>) {
  if (!result.ok) expect(result.reason).toMatch(REASON);
}

describe('the parser never throws and always gives a reason', () => {
  test('arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expectResult(decodeBytes(bytes, now));
      }),
      { numRuns: 3000 },
    );
  });

  test('arbitrary strings, base64 or not', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expectResult(decodeBase64Record(s, now));
        expectResult(decodeBase64Record(Buffer.from(s).toString('base64'), now));
      }),
      { numRuns: 3000 },
    );
  });

  test('truncations of a valid record', () => {
    const text = JSON.stringify(unicorn('Shadowfax', now));
    for (let i = 0; i < text.length; i++) {
      const r = decodeBytes(Buffer.from(text.slice(0, i)), now);
      expect(r.ok).toBe(false);
      expectResult(r);
    }
  });

  test('any JSON value in any field of a unicorn record', () => {
    const fields = ['Name', 'StatusTime', 'Latitude', 'Longitude', 'Distance', 'HealthPoints', 'MagicPoints'];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => {
        expectResult(validateParsed({ ...unicorn('A', now), [field]: value }, now));
      }),
      { numRuns: 3000 },
    );
  });

  test('arbitrary JSON objects, including __proto__ and constructor keys', () => {
    fc.assert(
      fc.property(
        fc.object({ key: fc.constantFrom('__proto__', 'constructor', 'Name', 'panelId', 'ts', 'x') }),
        (o) => {
          expectResult(decodeBase64Record(Buffer.from(JSON.stringify(o)).toString('base64'), now));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('a 1 MB string field and deeply nested JSON', () => {
    expectResult(decodeBytes(Buffer.from(JSON.stringify({ Name: 'x'.repeat(1 << 20) })), now));
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expectResult(decodeBytes(Buffer.from(deep), now, { maxRecordBytes: 1 << 20 }));
  });
});
