import { z } from 'zod';
import { CutInstant, KnownAt, type CutRequest } from '@crm-ledger/projector';
import { option, usageError } from './settings.js';

/** The flags of a cut (`--as-of`, `--as-known-at`), parsed by the one parser the query API uses too. */
export function cutRequestOf(flags: { asOf?: string; asKnownAt?: string }): CutRequest {
  return {
    ...(flags.asOf === undefined ? {} : { asOf: option('--as-of', CutInstant, flags.asOf) }),
    ...(flags.asKnownAt === undefined
      ? {}
      : { asKnownAt: option('--as-known-at', KnownAt, flags.asKnownAt) }),
  };
}

/**
 * The old `--until` (a position, or an instant meaning "recorded by"): a position still means
 * `--as-known-at <position>`; an instant or date is refused, since it was read as ledger time while the API's
 * `asOf` is business time.
 */
export function untilPosition(value: string): number {
  const position = z
    .string()
    .regex(/^\d{1,15}$/)
    .safeParse(value);
  if (position.success) return Number(value);
  throw usageError([
    `--until: takes a global position only (got '${value}'). For a time, say which one: ` +
      `--as-of ${value} (business time: what had happened by then) or --as-known-at ${value} ` +
      '(ledger time: what the ledger had recorded by then)',
  ]);
}
