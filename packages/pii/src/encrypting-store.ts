import * as E from 'fp-ts/lib/Either.js';
import {
  canonicalJson,
  customerGone,
  isIdempotencyConflict,
  invalidAppend,
  storeUnavailable,
  validateAppend,
  type AppendError,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeOptions,
} from '@crm-ledger/core';
import { emptyRecord, definitionOf, type RawEnvelope } from '@crm-ledger/events';
import { personalFieldsOf, type PiiVault } from './vault.js';

export interface EncryptingStoreOptions {
  /**
   * `true`: validate every event's plaintext against the catalogue before encrypting it (callers that did not
   * validate: the inbound consumer, tests). `false` when the caller validated already (ingest API, importers).
   */
  readonly validate: boolean;
  /** Clock for the tombstone of a key destroyed right after its CustomerErased was appended. */
  readonly now?: () => string;
  /** Told when the immediate key destruction after an erasure failed (the shredder will retry it). */
  readonly onEraseFailed?: (customerId: string, message: string) => void;
}

/**
 * The event with every personal field of its type (by the catalogue) replaced by one marker, present or not: what
 * a retry is compared on, so the comparison says nothing about personal values (or whether one was given).
 */
function withoutPersonalValues(event: RawEnvelope): string {
  const pii = definitionOf(event.type)?.pii ?? [];
  if (pii.length === 0 || typeof event.data !== 'object' || event.data === null) return canonicalJson(event);
  const data: Record<string, unknown> = Object.assign(emptyRecord<unknown>(), event.data);
  for (const field of pii) data[field] = '(personal)';
  return canonicalJson({ ...event, data });
}

/**
 * The `EventStore` port with crypto-shredding: personal fields are encrypted with their customer's key before
 * they reach the decorated store (any implementation), so the log only ever holds ciphertext. Reads pass
 * through (ciphertext); readers decrypt at the edge with `PiiVault.reader()`.
 *
 * - Appends about an erased customer are refused as `CustomerGone`, except CustomerErased itself (a retry).
 * - After an append that holds a CustomerErased is durable, the key is destroyed at once; the shredder
 *   (`startShredder`), following the log, destroys it too if this process died in between.
 * - Encryption is deterministic per (event, field, plaintext), so a retried append is still a duplicate.
 * - No plaintext-guessing oracle: a retry (same event ids) that differs from the stored events only in personal
 *   fields is answered as a duplicate too, and changes nothing. Otherwise re-posting a known event id with a
 *   guessed e-mail would answer "duplicate" for a right guess and "conflict" for a wrong one. A writer learns
 *   from a retry only what it sent itself: whether the non-personal content matches (docs/security.md).
 */
export function encryptingEventStore(
  inner: EventStore,
  vault: PiiVault,
  options: EncryptingStoreOptions,
): EventStore {
  const now = options.now ?? (() => new Date().toISOString());
  /**
   * An append about an erased customer is refused, unless every event is already stored (a retry, a re-run
   * import or seed): then it is the usual duplicate. Compared by event id only: the plaintext can no longer be
   * encrypted to compare content.
   */
  const goneOrDuplicate = async (
    streamName: string,
    customerId: string,
    events: readonly RawEnvelope[],
  ): Promise<E.Either<AppendError, AppendResult>> => {
    const gone = E.left<AppendError>(customerGone(customerId, streamName));
    const stored = await inner.readStream(streamName);
    if (E.isLeft(stored)) return stored;
    const byId = new Map(stored.right.map((s) => [s.event.eventId, s]));
    const found = events.map((e) => byId.get(e.eventId));
    if (found.some((s) => s === undefined)) return gone;
    const last = stored.right[stored.right.length - 1]!;
    return E.right({
      streamName,
      nextExpectedRevision: last.revision,
      positions: found.map((s) => s!.globalPosition),
      duplicate: true,
    });
  };
  /**
   * A content conflict where every event of the batch is stored in this stream and equal to it but for personal
   * values: answered as the duplicate a true retry gets (same positions, same next revision). Else the conflict.
   */
  const duplicateUpToPersonalValues = async (
    streamName: string,
    events: readonly RawEnvelope[],
    conflict: E.Either<AppendError, AppendResult>,
  ): Promise<E.Either<AppendError, AppendResult>> => {
    const stored = await inner.readStream(streamName);
    if (E.isLeft(stored)) return conflict;
    const byId = new Map(stored.right.map((s) => [s.event.eventId, s]));
    const found = events.map((e) => byId.get(e.eventId));
    const same = events.every(
      (e, i) => found[i] !== undefined && withoutPersonalValues(found[i].event) === withoutPersonalValues(e),
    );
    const last = stored.right[stored.right.length - 1];
    if (!same || last === undefined) return conflict;
    return E.right({
      streamName,
      nextExpectedRevision: last.revision,
      positions: found.map((s) => s!.globalPosition),
      duplicate: true,
    });
  };
  const append = async (
    streamName: string,
    events: readonly RawEnvelope[],
    appendOptions?: AppendOptions,
  ): Promise<E.Either<AppendError, AppendResult>> => {
    const given: unknown = events;
    if (!Array.isArray(given)) return inner.append(streamName, events, appendOptions); // the store says why
    if (options.validate) {
      // the port's rules on the plaintext, so a refusal names what the caller sent (the store checks again)
      const valid = validateAppend(streamName, events, appendOptions?.expectedRevision ?? 'any');
      if (E.isLeft(valid)) return valid;
    }
    const customerId = events[0]?.customerId;
    if (customerId === undefined || events.some((e) => e.customerId !== customerId)) {
      // empty or mixed batches: the decorated store answers them (InvalidAppend), nothing personal is written
      return inner.append(streamName, events, appendOptions);
    }
    const erasing = events.some((e) => e.type === 'CustomerErased');
    const onlyErasures = events.every((e) => e.type === 'CustomerErased');
    // An append with personal fields learns of an erasure from getOrCreate (KeyDestroyed); one without asks.
    if (!onlyErasures && events.every((e) => personalFieldsOf(e).length === 0)) {
      const state = await vault.reader(1).isErased(customerId);
      if (E.isLeft(state)) return E.left(storeUnavailable(state.left.message, state.left));
      if (state.right) return goneOrDuplicate(streamName, customerId, events);
    }
    const encrypted = await vault.encrypt(customerId, events);
    if (E.isLeft(encrypted)) {
      const error = encrypted.left;
      switch (error.type) {
        case 'KeyDestroyed':
          return goneOrDuplicate(streamName, customerId, events);
        case 'KeyStoreUnavailable':
          return E.left(storeUnavailable(error.message, error));
        case 'ForeignCiphertext':
          return E.left(
            invalidAppend(
              `event ${error.index}: data.${error.field} looks encrypted (enc:v1:) but is not this customer's ciphertext for this event`,
              { index: error.index },
            ),
          );
      }
    }
    let result = await inner.append(streamName, encrypted.right, appendOptions);
    if (E.isLeft(result) && isIdempotencyConflict(result.left) && result.left.reason === 'different_content')
      result = await duplicateUpToPersonalValues(streamName, encrypted.right, result);
    if (E.isRight(result) && erasing) {
      const destroyed = await vault.erase(customerId, now());
      if (E.isLeft(destroyed)) options.onEraseFailed?.(customerId, destroyed.left.message);
    }
    return result;
  };
  return {
    append,
    readStream: (streamName: string, o?: ReadStreamOptions) => inner.readStream(streamName, o),
    readAll: (o?: ReadAllOptions) => inner.readAll(o),
    subscribe: (o?: SubscribeOptions) => inner.subscribe(o),
    headPosition: () => inner.headPosition(),
    positionAt: (time: string) => inner.positionAt(time),
    close: () => inner.close(),
    ...(inner.subscriptionStatus === undefined
      ? {}
      : { subscriptionStatus: () => inner.subscriptionStatus?.() ?? [] }),
  };
}
