import { startShredder } from '@crm-ledger/pii';
import type { LedgerComponent } from '../component.js';

/**
 * Crypto-shredding in a ledger process: catches up on every CustomerErased in the log (destroying the key of
 * each erased customer) before the process serves anything, then follows the log. Needs a vault (a key store).
 */
export const shredderComponent: LedgerComponent = {
  name: 'shredder',
  async start(ctx) {
    const vault = ctx.vault;
    if (vault === undefined)
      throw new Error('the shredder needs a key store: open the event store with a vault');
    const logger = ctx.logger.child({ component: 'shredder' });
    const running = await startShredder({
      store: ctx.store,
      keys: vault.keys,
      logger,
      signal: ctx.signal,
      status: ctx.status,
    });
    return {
      description: `destroys a customer's key at their CustomerErased (caught up at position ${running.position()}); ${vault.keys.description}`,
      stop: () => running.done,
    };
  },
};
