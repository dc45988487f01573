import { sharedConfig } from '../../infra/vitest/shared.js';
// The Kafka-mode e2e (kafka-scaleout.e2e.spec.ts) needs a real broker: one per run (KAFKA_BROKERS=host:port
// uses a running one instead).
export default sharedConfig(import.meta.dirname, {
  globalSetup: ['../../infra/kafka/vitest.global-setup.mjs'],
});
