import { describe, expect, it } from 'vitest';
import {
  APPEND_OVERHEAD_BYTES_PER_EVENT,
  MAX_APPEND_BYTES,
  MAX_EVENTS_PER_APPEND,
  MAX_EVENT_BYTES,
  appendLimitExceeded,
} from './limits.js';

describe('the limits every store enforces', () => {
  it("a batch fits while its bytes plus the per-event overhead stay within 1 MiB (EventStoreDB's append limit)", () => {
    const body = 'x'.repeat(100_000 - APPEND_OVERHEAD_BYTES_PER_EVENT);
    const ten = Array.from({ length: 10 }, () => body); // exactly 1,000,000 bytes counted
    expect(appendLimitExceeded(ten)).toBeUndefined();
    const eleven = [...ten, body];
    expect(appendLimitExceeded(eleven)?.message).toMatch(/1100000 bytes, over the maximum append of 1048576/);
    expect(MAX_APPEND_BYTES).toBe(1_048_576);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const euro = '€'.repeat(Math.floor(MAX_EVENT_BYTES / 3) + 1); // 3 bytes each
    expect(appendLimitExceeded([euro])).toEqual({
      message: expect.stringMatching(/^event 0 is/) as string,
      index: 0,
    });
  });

  it('one event alone may be up to MAX_EVENT_BYTES; an append of it fits', () => {
    expect(appendLimitExceeded(['y'.repeat(MAX_EVENT_BYTES)])).toBeUndefined();
    expect(appendLimitExceeded(['y'.repeat(MAX_EVENT_BYTES + 1)])?.index).toBe(0);
  });

  it('at most MAX_EVENTS_PER_APPEND events', () => {
    expect(appendLimitExceeded(new Array<string>(MAX_EVENTS_PER_APPEND + 1).fill('{}'))?.message).toMatch(
      /at most 10000 events/,
    );
  });
});
