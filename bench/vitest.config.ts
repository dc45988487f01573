import { sharedConfig } from '../infra/vitest/shared.js';
export default sharedConfig(import.meta.dirname, { testTimeout: 60_000 });
