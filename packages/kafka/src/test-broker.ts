import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap address of the run's broker (infra/kafka/vitest.global-setup.mjs). */
    kafkaBrokers: string;
    /** Directory of the broker's jars, for Kafka's own command-line tools (`java -cp '<dir>/*' ...`). */
    kafkaJars: string;
  }
}

/** The broker started for this test run. Only for specs. */
export function testBrokers(): string[] {
  return inject('kafkaBrokers').split(',');
}

let counter = 0;
/** A topic prefix no other test uses, so tests can share the broker and run in parallel. */
export function uniquePrefix(name: string): string {
  counter += 1;
  return `test-${name}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
