import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore, StoredEvent } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';

let counter = 0;

/** A valid `FeatureAdopted` event for the customer, with a fresh id. */
export function anEvent(customerId: string, feature = `feature-${++counter}`): RawEnvelope {
  return {
    eventId: randomUUID(),
    type: 'FeatureAdopted',
    schemaVersion: 1,
    customerId,
    occurredAt: '2024-05-01T09:30:00.000Z',
    source: 'conformance',
    data: { feature },
  };
}

/** `n` valid events for the customer, each with a fresh id. */
export function someEvents(customerId: string, n: number): RawEnvelope[] {
  return Array.from({ length: n }, () => anEvent(customerId));
}

/** A fresh customer id and its stream name. */
export function aCustomer(): { customerId: string; stream: string } {
  const customerId = `conf-${randomUUID().slice(0, 8)}-${++counter}`;
  return { customerId, stream: customerStream(customerId) };
}

export function rightOf<L, R>(result: E.Either<L, R>): R {
  if (E.isLeft(result)) throw new Error(`expected Right, got Left ${JSON.stringify(result.left)}`);
  return result.right;
}

export function leftOf<L, R>(result: E.Either<L, R>): L {
  if (E.isRight(result)) throw new Error(`expected Left, got Right ${JSON.stringify(result.right)}`);
  return result.left;
}

/** The whole global log (for small test stores only). */
export async function readEverything(store: EventStore, batchSize = 1000): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const page of store.readAll({ batchSize })) out.push(...page);
  return out;
}

/** Rejects when `promise` takes longer than `ms`: a conformance failure must not hang the run. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function expectStrictlyIncreasing(positions: readonly number[]): boolean {
  for (let i = 1; i < positions.length; i++) if (!(positions[i]! > positions[i - 1]!)) return false;
  return true;
}
