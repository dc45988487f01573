// vitest globalSetup: one real Kafka broker per test run, handed to tests with provide/inject
// (`inject('kafkaBrokers')`, `inject('kafkaJars')`). Tests use their own topic names, so files run in parallel.
// KAFKA_BROKERS=host:port uses a broker that is already running instead (jars are still resolved for the CLI tools).
import { ensureJars, startKafka } from './kafka.mjs';

/** @param {{ provide: (key: string, value: unknown) => void }} project */
export default async function setup(project) {
  const external = process.env.KAFKA_BROKERS;
  if (external !== undefined && external !== '') {
    project.provide('kafkaBrokers', external);
    project.provide('kafkaJars', await ensureJars());
    return undefined;
  }
  const kafka = await startKafka({ log: (line) => console.error(`[kafka] ${line}`) });
  project.provide('kafkaBrokers', kafka.brokers);
  project.provide('kafkaJars', kafka.jarsDir);
  return async () => {
    await kafka.stop();
  };
}
