import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from './encode.js';
import { splitIntoRequests } from './publisher.js';

const message = (topic: string, key: string, value: string, globalPosition: number): OutgoingMessage => ({
  topic,
  key,
  value,
  headers: { ce_id: `e${globalPosition}` },
  globalPosition,
});

describe('splitIntoRequests', () => {
  it('keeps a share under the per-partition limit in one request, grouped by topic with partitions', () => {
    const share = [
      { m: message('a', 'c1', 'x', 1), partition: 0 },
      { m: message('b', 'c1', 'y', 2), partition: 2 },
      { m: message('a', 'c2', 'z', 3), partition: 1 },
    ];
    expect(splitIntoRequests(share, 10_000)).toEqual([
      [
        {
          topic: 'a',
          messages: [
            { key: 'c1', value: 'x', headers: { ce_id: 'e1' }, partition: 0 },
            { key: 'c2', value: 'z', headers: { ce_id: 'e3' }, partition: 1 },
          ],
        },
        { topic: 'b', messages: [{ key: 'c1', value: 'y', headers: { ce_id: 'e2' }, partition: 2 }] },
      ],
    ]);
  });

  it('starts a new request when one partition would exceed the limit, keeping each partition in order', () => {
    // 2 + 300 + 200 = 502 bytes per message: two fit under 1 100 bytes, a third does not.
    const value = 'v'.repeat(300);
    const share = [1, 2, 3, 4, 5].map((n) => ({ m: message('t', 'c1', value, n), partition: 0 }));
    const other = { m: message('t', 'c2', value, 6), partition: 1 };
    const requests = splitIntoRequests([...share, other], 1_100);
    const positions = requests.map((r) => r.flatMap((t) => t.messages.map((m) => m.headers.ce_id)));
    expect(positions).toEqual([
      ['e1', 'e2'],
      ['e3', 'e4'],
      ['e5', 'e6'],
    ]);
    // A message alone over the limit still goes, alone.
    expect(
      splitIntoRequests([{ m: message('t', 'c1', 'v'.repeat(5_000), 1), partition: 0 }], 1_100),
    ).toHaveLength(1);
  });
});
