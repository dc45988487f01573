import {
  DigestFolder,
  GENESIS_LINK,
  chainLink,
  storedBytesOf,
  type EventStore,
  type GlobalPosition,
  type LedgerDigest,
  type StoredEvent,
} from '@crm-ledger/core';

/** A digest to re-check: from the ledger's digest store, or from an auditor's exported file. */
export type ExpectedDigest = Pick<LedgerDigest, 'number' | 'position' | 'count' | 'digest'>;

/** The first event whose link does not hold. */
export interface ChainBreak {
  readonly type: 'ChainBreak';
  /**
   * `link_mismatch`: the stored link is not the one recomputed from the previous link and the stored bytes;
   * `revision_gap`: the stream's revisions jump (an event was deleted, or moved to another place).
   */
  readonly reason: 'link_mismatch' | 'revision_gap';
  readonly streamName: string;
  readonly revision: number;
  readonly globalPosition: GlobalPosition;
  readonly eventId: string;
  /** For `link_mismatch`: the link recomputed; for `revision_gap`: the revision that should come next. */
  readonly expected: string;
  /** For `link_mismatch`: the link stored; for `revision_gap`: the revision found. */
  readonly found: string;
}

/** The first digest that the log no longer gives. */
export interface DigestBreak {
  readonly type: 'DigestBreak';
  /** `ledger`: a digest recorded by the notary; `export`: a digest of the file given with `against`. */
  readonly source: 'ledger' | 'export';
  /** `mismatch`: recomputed digest or count differ; `truncated`: the log ends before the digest's position. */
  readonly reason: 'mismatch' | 'truncated';
  readonly number: number;
  readonly position: GlobalPosition;
  readonly expected: { readonly digest: string; readonly count: number };
  readonly found: { readonly digest: string; readonly count: number };
}

/** Reading the log failed mid-way (e.g. a stored body that is no longer JSON). */
export interface UnreadableLog {
  readonly type: 'UnreadableLog';
  /** The last position read and checked before the failure. */
  readonly after: GlobalPosition;
  readonly message: string;
}

export type VerifyProblem = ChainBreak | DigestBreak | UnreadableLog;

export interface VerifyReport {
  readonly ok: boolean;
  readonly events: number;
  readonly streams: number;
  /** Digests of the ledger checked (all of them when ok). */
  readonly digests: number;
  /** Digests of the exported file checked, when one was given. */
  readonly exportedDigests: number;
  readonly lastPosition: GlobalPosition;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** The first problem, by global position (a chain break is preferred: it names the event itself). */
  readonly problem?: VerifyProblem;
  /** A digest break found besides a chain break (before it in the log), for the full picture. */
  readonly digestProblem?: DigestBreak;
}

export interface VerifyOptions {
  /** The ledger's recorded digests, in order. */
  readonly digests: readonly ExpectedDigest[];
  /** The digest chain of an exported file: re-checked against the log as it is now. */
  readonly against?: readonly ExpectedDigest[];
  readonly batchSize?: number;
  /** Called after each page read. */
  readonly onProgress?: (progress: { readonly events: number; readonly position: GlobalPosition }) => void;
}

/** Re-folds the digest chain over the links and compares it with the digests expected, at their positions. */
class DigestChecker {
  private readonly folder = new DigestFolder();
  private index = 0;
  private count = 0;
  problem: DigestBreak | undefined;

  constructor(
    private readonly expected: readonly ExpectedDigest[],
    private readonly source: DigestBreak['source'],
  ) {}

  get checked(): number {
    return this.index;
  }

  add(position: GlobalPosition, link: string): void {
    // An event past the next digest's position without having met it: the event at that position is gone.
    while (
      this.problem === undefined &&
      this.index < this.expected.length &&
      position > this.next().position
    ) {
      this.compare(this.next());
    }
    if (this.problem !== undefined || this.index >= this.expected.length) return;
    this.folder.add(link);
    this.count += 1;
    if (position === this.next().position) this.compare(this.next());
  }

  finish(): void {
    if (this.problem !== undefined || this.index >= this.expected.length) return;
    const d = this.next();
    this.problem = {
      type: 'DigestBreak',
      source: this.source,
      reason: 'truncated',
      number: d.number,
      position: d.position,
      expected: { digest: d.digest, count: d.count },
      found: { digest: this.folder.peek(), count: this.count },
    };
  }

  private next(): ExpectedDigest {
    return this.expected[this.index]!;
  }

  private compare(d: ExpectedDigest): void {
    const digest = this.folder.seal();
    if (digest !== d.digest || this.count !== d.count) {
      this.problem = {
        type: 'DigestBreak',
        source: this.source,
        reason: 'mismatch',
        number: d.number,
        position: d.position,
        expected: { digest: d.digest, count: d.count },
        found: { digest, count: this.count },
      };
      return;
    }
    this.index += 1;
  }
}

interface StreamHead {
  revision: number;
  link: string;
}

/**
 * Verifies the whole ledger through the `EventStore` port, page by page (never the whole log in memory, one
 * entry per stream): every event's revision follows its stream's previous one and its link is the one
 * recomputed from the previous link and its stored bytes; every digest (the ledger's, and an exported file's)
 * is re-folded from the links in global order. Stops at the first broken link.
 */
export async function verifyLedger(store: EventStore, options: VerifyOptions): Promise<VerifyReport> {
  const started = process.hrtime.bigint();
  const heads = new Map<string, StreamHead>();
  const ledger = new DigestChecker(options.digests, 'ledger');
  const exported = options.against === undefined ? undefined : new DigestChecker(options.against, 'export');
  let events = 0;
  let lastPosition = 0;
  let problem: VerifyProblem | undefined;

  const check = (e: StoredEvent): ChainBreak | undefined => {
    const head = heads.get(e.streamName);
    const expectedRevision = head === undefined ? 0 : head.revision + 1;
    const at = {
      type: 'ChainBreak' as const,
      streamName: e.streamName,
      revision: e.revision,
      globalPosition: e.globalPosition,
      eventId: e.event.eventId,
    };
    if (e.revision !== expectedRevision) {
      return { ...at, reason: 'revision_gap', expected: String(expectedRevision), found: String(e.revision) };
    }
    const link = chainLink(head?.link ?? GENESIS_LINK, e.streamName, e.revision, storedBytesOf(e.event));
    if (link !== e.hash) return { ...at, reason: 'link_mismatch', expected: link, found: e.hash };
    if (head === undefined) heads.set(e.streamName, { revision: e.revision, link });
    else {
      head.revision = e.revision;
      head.link = link;
    }
    return undefined;
  };

  try {
    outer: for await (const page of store.readAll({ batchSize: options.batchSize ?? 2_000 })) {
      for (const e of page) {
        const broken = check(e);
        if (broken !== undefined) {
          problem = broken;
          break outer;
        }
        ledger.add(e.globalPosition, e.hash);
        exported?.add(e.globalPosition, e.hash);
        events += 1;
        lastPosition = e.globalPosition;
      }
      options.onProgress?.({ events, position: lastPosition });
    }
  } catch (error) {
    problem = {
      type: 'UnreadableLog',
      after: lastPosition,
      message: error instanceof Error ? error.message : String(error),
    };
  }
  if (problem === undefined) {
    ledger.finish();
    exported?.finish();
  }
  const digestProblem = firstOf(ledger.problem, exported?.problem);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const report = {
    events,
    streams: heads.size,
    digests: ledger.checked,
    exportedDigests: exported?.checked ?? 0,
    lastPosition,
    seconds,
    eventsPerSecond: seconds > 0 ? Math.round(events / seconds) : events,
  };
  if (problem !== undefined) {
    return { ...report, ok: false, problem, ...(digestProblem === undefined ? {} : { digestProblem }) };
  }
  if (digestProblem !== undefined) return { ...report, ok: false, problem: digestProblem };
  return { ...report, ok: true };
}

function firstOf(a: DigestBreak | undefined, b: DigestBreak | undefined): DigestBreak | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.position < a.position ? b : a;
}
