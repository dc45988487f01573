import { sharedConfig } from '../../infra/vitest/shared.js';
// The production-mode e2e needs a real Kafka broker: infra/kafka starts one per run (or uses KAFKA_BROKERS).
export default sharedConfig(import.meta.dirname, {
  globalSetup: ['../../infra/kafka/vitest.global-setup.mjs'],
});
