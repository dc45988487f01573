import { compatibilityPartitioner, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { recordFrom } from '@crm-ledger/events';

/** A message of a probe send. */
export interface ProbeMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Measurement only (bench/src/relay.ts), not used by the relay: sends prepared batches with `@platformatic/kafka`'s
 * producer under the relay's settings (idempotent, acks = all, one send awaited at a time, the Java client's murmur2
 * partitioning) and returns the seconds they took: the evidence for or against switching the relay's client
 * (docs/kafka.md, "Client").
 */
/** @platformatic/kafka requires Node >= 22.22 (it calls `Promise.withResolvers`); this project runs on Node 20. */
function polyfillWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: () => unknown };
  P.withResolvers ??= () => {
    let resolve: (v: unknown) => void = () => undefined;
    let reject: (e: unknown) => void = () => undefined;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export async function timeSendsWithPlatformatic(
  brokers: readonly string[],
  sends: readonly (readonly ProbeMessage[])[],
): Promise<number> {
  polyfillWithResolvers();
  const producer = new Producer({
    clientId: 'crm-ledger-bench-platformatic',
    bootstrapBrokers: [...brokers],
    serializers: stringSerializers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
  });
  try {
    const t0 = process.hrtime.bigint();
    for (const messages of sends) {
      await producer.send({
        messages: messages.map((m) => ({
          topic: m.topic,
          key: m.key,
          value: m.value,
          headers: recordFrom(Object.entries(m.headers)),
        })),
      });
    }
    return Number(process.hrtime.bigint() - t0) / 1e9;
  } finally {
    await producer.close();
  }
}
