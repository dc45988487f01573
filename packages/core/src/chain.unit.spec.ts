import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestFolder, GENESIS_LINK, chainBatch, chainLink } from './chain.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('chain links', () => {
  it('hash prevLink, stream, revision and stored bytes separated by newlines (the documented definition)', () => {
    const body = '{"customerId":"c1","data":{"feature":"é"}}';
    expect(chainLink(GENESIS_LINK, 'customer-c1', 0, body)).toBe(
      sha256(`${'0'.repeat(64)}\ncustomer-c1\n0\n${body}`),
    );
    // A known vector, so that a change of definition cannot pass unnoticed.
    expect(chainLink(GENESIS_LINK, 's', 0, '{}')).toBe(sha256(`${'0'.repeat(64)}\ns\n0\n{}`));
  });

  it('change with any of their parts', () => {
    const base = chainLink(GENESIS_LINK, 'customer-c1', 3, '{"a":1}');
    expect(chainLink('1'.repeat(64), 'customer-c1', 3, '{"a":1}')).not.toBe(base);
    expect(chainLink(GENESIS_LINK, 'customer-c2', 3, '{"a":1}')).not.toBe(base);
    expect(chainLink(GENESIS_LINK, 'customer-c1', 4, '{"a":1}')).not.toBe(base);
    expect(chainLink(GENESIS_LINK, 'customer-c1', 3, '{"a":2}')).not.toBe(base);
  });

  it('chainBatch links each body to the one before it', () => {
    const links = chainBatch(GENESIS_LINK, 's', 0, ['{"n":0}', '{"n":1}', '{"n":2}']);
    const l0 = chainLink(GENESIS_LINK, 's', 0, '{"n":0}');
    const l1 = chainLink(l0, 's', 1, '{"n":1}');
    expect(links).toEqual([l0, l1, chainLink(l1, 's', 2, '{"n":2}')]);
  });
});

describe('DigestFolder', () => {
  it('D_k = sha256(D_{k-1} ‖ links), chained from 64 zeros', () => {
    const links = ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)];
    const folder = new DigestFolder();
    folder.add(links[0]!);
    folder.add(links[1]!);
    expect(folder.count).toBe(2);
    const d1 = folder.seal();
    expect(d1).toBe(sha256(GENESIS_LINK + links[0]! + links[1]!));
    folder.add(links[2]!);
    expect(folder.peek()).toBe(sha256(d1 + links[2]!));
    expect(folder.seal()).toBe(sha256(d1 + links[2]!));
    expect(folder.count).toBe(0);
    // Resuming from a stored digest gives the same result as folding from the start.
    const resumed = new DigestFolder(d1);
    resumed.add(links[2]!);
    expect(resumed.seal()).toBe(sha256(d1 + links[2]!));
  });
});
