import type { Clock, EventStore, StoredEvent, AppendResult } from '@crm-ledger/core';
import type { RawEnvelope } from '@crm-ledger/events';
import { afterEach, beforeEach, expect } from 'vitest';
import { readEverything, rightOf } from './fixtures.js';

/** What the suite gives the factory: a clock the suite controls (tests pin it to chosen instants). */
export interface ConformanceContext {
  readonly clock: Clock;
}

export interface ConformanceFixture {
  /** A fresh, empty store. */
  readonly store: EventStore;
  /** Opens another instance over the same storage (e.g. a second connection to the same file). The suite closes it. */
  readonly openSecond?: () => Promise<EventStore>;
  /** Closes `store` and removes its storage. */
  readonly cleanup: () => Promise<void>;
  /** False when the store takes `recordedAt` from elsewhere (a server) and ignores the given clock. Default true. */
  readonly honoursClock?: boolean;
  /**
   * How a reader gets an event back as appended, for stores that transform what they keep (the crypto-shredding
   * decorator stores personal fields encrypted and decrypts them at the edge). Default: as stored.
   */
  readonly readBack?: (event: RawEnvelope) => Promise<RawEnvelope>;
  /**
   * For a decorator that transforms what it stores (crypto-shredding): the same decoration around the reference
   * store the hash-chain case compares links with, so both hold the same bytes. Default: the bare reference.
   */
  readonly decorateReference?: (reference: EventStore) => EventStore;
}

export type ConformanceFactory = (context: ConformanceContext) => Promise<ConformanceFixture>;

/** A clock that reads the system time unless a test pins it. */
export class ControlledClock implements Clock {
  pinned: string | undefined;
  now(): string {
    return this.pinned ?? new Date().toISOString();
  }
}

export const WAIT_MS = 10_000;

/**
 * What every case of the suite works with: a fresh store per test (from the factory, cleaned up after), the
 * clock the suite controls, and the helpers the cases share. Create it inside a `describe`: it registers the
 * `beforeEach`/`afterEach` that open and clean up the store.
 */
export class Harness {
  fixture!: ConformanceFixture;
  store!: EventStore;
  clock!: ControlledClock;
  private readonly seconds: EventStore[] = [];

  constructor(factory: ConformanceFactory) {
    beforeEach(async () => {
      this.clock = new ControlledClock();
      this.fixture = await factory({ clock: this.clock });
      this.store = this.fixture.store;
    });

    afterEach(async () => {
      for (const s of this.seconds.splice(0)) await s.close();
      await this.fixture.cleanup();
    });
  }

  /** Asserts that a failed call left the store exactly as it was. */
  readonly expectUnchanged = async (before: readonly StoredEvent[]): Promise<void> => {
    expect(await readEverything(this.store)).toEqual(before);
    expect(await this.store.headPosition()).toBe(
      before.length === 0 ? 0 : before[before.length - 1]!.globalPosition,
    );
  };

  readonly append = async (
    stream: string,
    events: readonly RawEnvelope[],
    expectedRevision?: number | 'any' | 'no_stream' | 'stream_exists',
  ): Promise<AppendResult> => {
    return rightOf(
      await this.store.append(stream, events, expectedRevision === undefined ? {} : { expectedRevision }),
    );
  };

  readonly second = async (): Promise<EventStore | undefined> => {
    if (this.fixture.openSecond === undefined) return undefined;
    const s = await this.fixture.openSecond();
    this.seconds.push(s);
    return s;
  };
}
