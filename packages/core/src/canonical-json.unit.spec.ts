import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":[1,"x"]},"b":1}',
    );
  });
  it('gives the same bytes for objects built in a different key order', () => {
    expect(canonicalJson({ x: 1, y: { p: true, q: 'é' } })).toBe(
      canonicalJson({ y: { q: 'é', p: true }, x: 1 }),
    );
  });
  it('rejects values JSON cannot carry', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });
});

describe('canonicalJson escaping', () => {
  it('escapes strings and keys exactly as JSON.stringify does', () => {
    const tricky = ['plain', 'quote"', 'back\\slash', 'tab\t', 'é', '\u2028', '😀', '\ud800', ''];
    for (const s of tricky) {
      expect(canonicalJson(s)).toBe(JSON.stringify(s));
      expect(canonicalJson({ [s]: 1 })).toBe(`{${JSON.stringify(s)}:1}`);
    }
    expect(canonicalJson([1, undefined, -0, 1e21])).toBe(JSON.stringify([1, null, 0, 1e21]));
  });
});
