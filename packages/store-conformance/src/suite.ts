import { describe } from 'vitest';
import { Harness, type ConformanceFactory } from './harness.js';
import { appendAndReadCases } from './cases/append-and-read.js';
import { expectedRevisionCases } from './cases/expected-revision.js';
import { idempotencyByEventIdCases } from './cases/idempotency-by-event-id.js';
import { atomicityAndBadInputCases } from './cases/atomicity-and-bad-input.js';
import { concurrencyCases } from './cases/concurrency.js';
import { theGlobalLogCases } from './cases/the-global-log.js';
import { hashChainCases } from './cases/hash-chain.js';
import { subscriptionsCases } from './cases/subscriptions.js';
import { describeSharedRefusals } from './refusals.js';

export type { ConformanceContext, ConformanceFactory, ConformanceFixture } from './harness.js';

/**
 * Registers the conformance suite of the `EventStore` port (vitest `describe`/`it` blocks).
 * Every test gets a fresh store from `factory` and calls `cleanup` after. The cases live in cases/, one file
 * per group, in this order.
 */
export function describeEventStoreConformance(name: string, factory: ConformanceFactory): void {
  describe(`EventStore conformance: ${name}`, () => {
    const h = new Harness(factory);
    appendAndReadCases(h);
    expectedRevisionCases(h);
    idempotencyByEventIdCases(h);
    atomicityAndBadInputCases(h);
    describeSharedRefusals(() => h.store);
    concurrencyCases(h);
    theGlobalLogCases(h);
    hashChainCases(h);
    subscriptionsCases(h);
  });
}
