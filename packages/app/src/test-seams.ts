import { installProjectionFault, projectionFaultOf } from '@crm-ledger/projector';
import { installKafkaCommitPause } from './components/kafka-projector.js';

/**
 * The test seams of a ledger process, in one place, each named CRM_LEDGER_TEST_*: they exist so end-to-end
 * specs can drive a real process into a failure, and do nothing unless their variable is set.
 *
 * - CRM_LEDGER_TEST_PROJECTION_FAULT=`<view>:<eventId>[,...]` (issue #14): that view throws for those events,
 *   to prove failure isolation (only their customer is held). Used by services/cli/src/held.e2e.spec.ts.
 * - CRM_LEDGER_TEST_KAFKA_COMMIT_PAUSE_MS=`<ms>` (issue #17): the Kafka-mode projector holds each batch's
 *   transaction open that long after writing it, logging `batch written, not committed`, so a spec can SIGKILL
 *   it mid-batch. Used by services/projector/src/kafka-scaleout.e2e.spec.ts.
 *
 * Called by every process the root assembles (`startProcess`) and by `crm-ledger replay`.
 */
export function installTestSeams(env: Record<string, string | undefined>): void {
  const fault = env['CRM_LEDGER_TEST_PROJECTION_FAULT'];
  if (fault !== undefined && fault !== '') installProjectionFault(projectionFaultOf(fault));
  const pause = Number(env['CRM_LEDGER_TEST_KAFKA_COMMIT_PAUSE_MS'] ?? '0');
  if (Number.isFinite(pause) && pause > 0) installKafkaCommitPause(pause);
}
