// The one logger interface lives in core; re-exported here for the package's callers.
export { silentLogger, type Logger } from '@crm-ledger/core';
