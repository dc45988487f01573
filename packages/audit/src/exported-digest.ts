import * as E from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { CHAIN_ALGORITHM, type LedgerDigest } from '@crm-ledger/core';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex SHA-256 (64 characters)');
const Count = z.int().min(1);

const ChainEntry = z
  .object({ number: Count, position: Count, count: Count, digest: Hex64 })
  .strict()
  .describe('One digest of the chain: it covers every event up to `position`');

/**
 * What `crm-ledger verify --export-digest` writes for an auditor: the latest digest of the ledger and the
 * whole digest chain up to it (each digest chains to the one before, so the positions of all of them are
 * needed to recompute the last one). `crm-ledger verify --against` re-folds the log over those positions.
 */
export const ExportedDigest = z
  .object({
    algorithm: z.literal(CHAIN_ALGORITHM),
    number: Count,
    position: Count,
    count: Count,
    digest: Hex64,
    recordedAt: z.iso.datetime(),
    exportedAt: z.iso.datetime(),
    chain: z.array(ChainEntry).min(1),
  })
  .strict()
  .superRefine((d, ctx) => {
    const last = d.chain[d.chain.length - 1]!;
    if (last.number !== d.number || last.position !== d.position || last.digest !== d.digest) {
      ctx.addIssue({ code: 'custom', path: ['chain'], message: 'the last entry of chain is not the digest' });
    }
    d.chain.forEach((entry, i) => {
      const prev = d.chain[i - 1];
      if (entry.number !== i + 1 || (prev !== undefined && entry.position <= prev.position)) {
        ctx.addIssue({
          code: 'custom',
          path: ['chain', i],
          message: 'digests are numbered 1, 2, 3... at increasing positions',
        });
      }
    });
  });
export type ExportedDigest = z.infer<typeof ExportedDigest>;

/** The export of the latest of `digests` (recorded by the notary, in order). */
export function exportDigest(
  digests: readonly LedgerDigest[],
  exportedAt: string,
): ExportedDigest | undefined {
  const last = digests[digests.length - 1];
  if (last === undefined) return undefined;
  return {
    algorithm: CHAIN_ALGORITHM,
    number: last.number,
    position: last.position,
    count: last.count,
    digest: last.digest,
    recordedAt: last.recordedAt,
    exportedAt,
    chain: digests.map(({ number, position, count, digest }) => ({ number, position, count, digest })),
  };
}

/** Reads an exported digest file's text: one message per problem. */
export function parseExportedDigest(text: string): E.Either<string[], ExportedDigest> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return E.left([`not JSON: ${(error as Error).message}`]);
  }
  const parsed = ExportedDigest.safeParse(json);
  if (parsed.success) return E.right(parsed.data);
  return E.left(
    parsed.error.issues.map((i) => `${i.path.length === 0 ? '(file)' : i.path.join('.')}: ${i.message}`),
  );
}
