import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap address of the run's broker (infra/kafka/vitest.global-setup.mjs). */
    kafkaBrokers: string;
    kafkaJars: string;
  }
}

/** The broker started for this test run. Only for specs. */
export function testBrokers(): string {
  return inject('kafkaBrokers');
}
