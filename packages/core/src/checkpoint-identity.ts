import type { CheckpointStore } from './checkpoint-store.js';
import type { GlobalPosition } from './event-store.js';

/**
 * A checkpoint is a position in one event store's log: a SQLite position means nothing to EventStoreDB (whose
 * positions are byte offsets) and the other way round. This decorator binds every checkpoint to the identity of
 * the event store it was read from (e.g. `sqlite`, `eventstoredb:crmledger.`): next to checkpoint `name` it keeps
 * `name@store`, a 32-bit fingerprint of that identity, and `load` refuses a checkpoint saved against another
 * store instead of silently resuming a consumer at a meaningless position. Works over any `CheckpointStore`
 * (SQLite, PostgreSQL) without a schema change. A checkpoint saved before this existed (no fingerprint) is
 * adopted by the store that reads it first.
 */
export function bindCheckpointsToStore(inner: CheckpointStore, storeIdentity: string): CheckpointStore {
  const fingerprint = fingerprintOf(storeIdentity);
  const bound = new Set<string>();
  const bind = async (name: string): Promise<void> => {
    if (bound.has(name)) return;
    await inner.save(`${name}${SUFFIX}`, fingerprint);
    bound.add(name);
  };
  return {
    async load(name: string): Promise<GlobalPosition> {
      const [position, saved] = await Promise.all([inner.load(name), inner.load(`${name}${SUFFIX}`)]);
      if (saved !== 0 && saved !== fingerprint) {
        throw new Error(
          `checkpoint '${name}' (position ${position}) was saved reading another event store than ${storeIdentity}: ` +
            `positions of one store mean nothing in another, so it is not reused. To start '${name}' over from the ` +
            `beginning of this store, delete the checkpoints '${name}' and '${name}${SUFFIX}'`,
        );
      }
      if (saved === 0 && position > 0) await bind(name);
      else if (saved === fingerprint) bound.add(name);
      return position;
    },
    async save(name: string, position: GlobalPosition): Promise<void> {
      await bind(name);
      await inner.save(name, position);
    },
    close: () => inner.close(),
  };
}

const SUFFIX = '@store';

/** FNV-1a over the identity's UTF-16 units, as a positive 32-bit number (never 0: 0 means "none saved"). */
function fingerprintOf(identity: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < identity.length; i++) {
    h ^= identity.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h === 0 ? 1 : h;
}
