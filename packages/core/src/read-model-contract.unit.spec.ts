import { describe, expect, it } from 'vitest';
import {
  CheckpointMoved,
  decodeCursor,
  encodeCursor,
  InvalidCursor,
  isCheckpointMoved,
  isInvalidCursor,
  listSortKey,
  totalSort,
} from './read-model-contract.js';

describe('the list cursor codec', () => {
  // Moved here from postgres/src/read-model/query-builder.unit.spec.ts with the codec (one for both adapters).
  it('round-trips cursors and rejects forged ones', () => {
    expect(decodeCursor(encodeCursor('s', ['a', 1, null]), 's', 3)).toEqual(['a', 1, null]);
    expect(() => decodeCursor(encodeCursor('s', ['a']), 's', 2)).toThrow(/invalid cursor/);
    expect(() => decodeCursor('%%%', 's', 1)).toThrow(/invalid cursor/);
    expect(() => decodeCursor(Buffer.from('[{"x":1}]').toString('base64url'), 's', 1)).toThrow(
      /invalid cursor/,
    );
  });

  it('refuses a cursor of another sort, extra fields, and cells that are not cells, with InvalidCursor', () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const hostile = [
      encodeCursor('t:a asc', ['x']),
      b64({ s: 't:a desc', k: ['x'], extra: 1 }),
      b64({ s: 't:a desc', k: [{ $gt: 1 }] }),
      b64({ s: 't:a desc', k: [true] }),
      b64({ s: 't:a desc' }),
      b64(['x']),
      b64(null),
      'a'.repeat(5000),
      '',
    ];
    for (const c of hostile) {
      let caught: unknown;
      try {
        decodeCursor(c, 't:a desc', 1);
      } catch (error) {
        caught = error;
      }
      expect(isInvalidCursor(caught), c).toBe(true);
      expect(caught).toBeInstanceOf(InvalidCursor);
    }
  });

  it('names the table and the total sort in the sort key', () => {
    const sort = totalSort([{ column: 'b', direction: 'desc' }], ['a', 'b']);
    expect(sort).toEqual([
      { column: 'b', direction: 'desc' },
      { column: 'a', direction: 'asc' },
    ]);
    expect(listSortKey('t', sort)).toBe('t:b desc,a asc');
  });
});

describe('the typed errors', () => {
  it('are recognised by their guards, also across a realm (same name and shape), and nothing else is', () => {
    expect(isCheckpointMoved(new CheckpointMoved('service', 7, 10))).toBe(true);
    const foreign = Object.assign(new Error('x'), { name: 'CheckpointMoved', projection: 'service' });
    expect(isCheckpointMoved(foreign)).toBe(true);
    expect(isCheckpointMoved(new Error('CheckpointMoved'))).toBe(false);
    expect(isCheckpointMoved(new InvalidCursor())).toBe(false);
    expect(isInvalidCursor(new InvalidCursor())).toBe(true);
    expect(isInvalidCursor(new Error('invalid cursor'))).toBe(false);
    expect(isInvalidCursor('InvalidCursor')).toBe(false);
  });
});
