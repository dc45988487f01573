import type { ProjectionSpec, ReadModelStore, Row } from '@crm-ledger/core';
import type { ClvFromStoreError } from './from-store.js';

/**
 * The latest scheduled CLV refit attempt, in the read model beside `clv_fit` (its own small projection: the
 * `clv` tables are replaced whole by each fit). A refit the data cannot support (NotConverged, NotIdentified,
 * too few customers...) is recorded here, so the query API of any process can tell "fit failed, why" apart from
 * "no fit yet". The projection's checkpoint counts the attempts recorded.
 */
export const clvRefitAttemptsSpec: ProjectionSpec = {
  name: 'clv_refit',
  version: 1,
  tables: [
    {
      name: 'clv_refit_attempts',
      description: 'The latest scheduled CLV refit attempt: when, whether it fitted, and why not.',
      columns: [
        { name: 'slot', type: 'text', nullable: false, description: "Always 'latest' (one row)" },
        { name: 'attempted_at', type: 'text', nullable: false, description: 'When the refit ran' },
        { name: 'outcome', type: 'text', nullable: false, description: "'fitted' or 'refused'" },
        {
          name: 'reason',
          type: 'text',
          nullable: true,
          description:
            'Why the data cannot support a fit (NotConverged, NotIdentified, ...); null when fitted',
        },
        {
          name: 'detail',
          type: 'text',
          nullable: true,
          description: 'The refusal in words; null when fitted',
        },
      ],
      primaryKey: ['slot'],
    },
  ],
};

/** A refit attempt as stored. */
export interface RefitAttempt {
  readonly at: string;
  readonly outcome: 'fitted' | 'refused';
  readonly reason?: string;
  readonly detail?: string;
}

/** A refusal of the fit in words: its type, the model and what the fit said. */
export function describeRefusal(error: ClvFromStoreError): string {
  switch (error.type) {
    case 'UnreadableEvent':
      return `the event at position ${error.globalPosition} cannot be read`;
    case 'InvalidInput':
      return `${error.model}: ${error.message}`;
    case 'TooFewCustomers':
      return `${error.model}: ${error.count} customers, at least ${error.minimum} needed`;
    case 'NoRepeatBuyers':
      return `${error.model}: none of the ${error.customers} customers bought twice`;
    case 'NotConverged':
      return `${error.model}: no convergence after ${error.evaluations} evaluations: ${error.message}`;
    case 'NotIdentified':
      return `${error.model}: the data cannot identify the parameters: ${error.reason}`;
  }
}

/** Records the latest attempt (replacing the previous one). */
export async function recordRefitAttempt(readModel: ReadModelStore, attempt: RefitAttempt): Promise<void> {
  await readModel.ensureProjection(clvRefitAttemptsSpec);
  const stored = await readModel.checkpoint(clvRefitAttemptsSpec.name);
  const row: Row = {
    slot: 'latest',
    attempted_at: attempt.at,
    outcome: attempt.outcome,
    reason: attempt.reason ?? null,
    detail: attempt.detail ?? null,
  };
  await readModel.apply([
    {
      projection: clvRefitAttemptsSpec.name,
      changes: [{ op: 'upsert', table: 'clv_refit_attempts', row }],
      checkpoint: stored + 1,
      expectedCheckpoint: stored,
    },
  ]);
}

/** The latest recorded attempt, or undefined when none was recorded. */
export async function latestRefitAttempt(readModel: ReadModelStore): Promise<RefitAttempt | undefined> {
  await readModel.ensureProjection(clvRefitAttemptsSpec);
  const row = await readModel.get('clv_refit_attempts', { slot: 'latest' });
  if (row === undefined) return undefined;
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const reason = text(row['reason']);
  const detail = text(row['detail']);
  return {
    at: String(row['attempted_at']),
    outcome: row['outcome'] === 'fitted' ? 'fitted' : 'refused',
    ...(reason === undefined ? {} : { reason }),
    ...(detail === undefined ? {} : { detail }),
  };
}
