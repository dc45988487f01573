import * as crypto from 'node:crypto';
import type { RawEnvelope } from '@crm-ledger/events';
import { canonicalJson } from './canonical-json.js';
import type { StreamRevision } from './event-store.js';

/** Name of the link and digest definitions below, written into exported digests. */
export const CHAIN_ALGORITHM = 'crm-ledger-chain-v1 (sha256)';

/** The link "before" revision 0 of every stream, and the digest before the first digest: 64 zeros. */
export const GENESIS_LINK = '0'.repeat(64);

/**
 * The chain link of one stored event, in lower-case hex:
 *
 *     link = sha256(prevLink ‖ "\n" ‖ streamName ‖ "\n" ‖ revision ‖ "\n" ‖ storedBytes)
 *
 * every part as UTF-8 text: `prevLink` the 64 hex characters of the link of revision - 1 of the same stream
 * (`GENESIS_LINK` for revision 0), `revision` in decimal, `storedBytes` the canonical JSON of the envelope as
 * the store holds it (`storedBytesOf`). Changing, removing, reordering or moving any event of a stream changes
 * the link of that event and of every later one of its stream. docs/event-store.md states it for auditors.
 */
export function chainLink(
  prevLink: string,
  streamName: string,
  revision: StreamRevision,
  storedBytes: string,
): string {
  const header = `${prevLink}\n${streamName}\n${revision}\n`;
  // One-shot hashing (node >= 20.12) costs about half of a Hash object per event on the append path.
  return oneShot !== undefined
    ? oneShot('sha256', header + storedBytes, 'hex')
    : crypto.createHash('sha256').update(header).update(storedBytes).digest('hex');
}

/** `crypto.hash` where this node has it (20.12 and later). */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** The bytes a store holds for an envelope, and the links cover: its canonical JSON. */
export function storedBytesOf(event: RawEnvelope): string {
  return canonicalJson(event);
}

/**
 * Links of a batch appended to one stream after `prevLink` (the link of revision `firstRevision - 1`),
 * each chained to the one before it.
 */
export function chainBatch(
  prevLink: string,
  streamName: string,
  firstRevision: StreamRevision,
  storedBytes: readonly string[],
): string[] {
  const links: string[] = [];
  let prev = prevLink;
  for (let i = 0; i < storedBytes.length; i++) {
    prev = chainLink(prev, streamName, firstRevision + i, storedBytes[i]!);
    links.push(prev);
  }
  return links;
}

/**
 * Folds the links of the global log into one digest:
 *
 *     D_k = sha256(D_{k-1} ‖ link_{a} ‖ link_{a+1} ‖ … ‖ link_{b})
 *
 * over the 64 hex characters of each, `D_0 = GENESIS_LINK`, the links taken in global order for the events in
 * positions (p_{k-1}, p_k]. One digest therefore commits to every event of the log up to p_k.
 */
export class DigestFolder {
  private hash = crypto.createHash('sha256');
  private pending = 0;

  constructor(private previous: string = GENESIS_LINK) {
    this.hash.update(previous);
  }

  /** Adds the link of the next event in global order. */
  add(link: string): void {
    this.hash.update(link);
    this.pending++;
  }

  /** Events added since the last `seal`. */
  get count(): number {
    return this.pending;
  }

  /** The digest of everything added since the last seal, chained to the previous digest; starts the next one. */
  seal(): string {
    const digest = this.hash.digest('hex');
    this.previous = digest;
    this.hash = crypto.createHash('sha256').update(digest);
    this.pending = 0;
    return digest;
  }

  /** What `seal` would answer now, without sealing. */
  peek(): string {
    return this.hash.copy().digest('hex');
  }
}
