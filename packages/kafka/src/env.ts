import { z } from 'zod';

const positiveInt = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be ${what}`)
    .transform(Number)
    .pipe(z.int().min(1, `must be ${what}`));

/**
 * The Kafka settings every crm-ledger process shares (relay, inbound consumer, example consumer), to extend the
 * process's own schema: `LedgerEnv.pick({...}).extend(KafkaEnv.shape)`, read with `loadConfig` of `@crm-ledger/config`.
 */
export const KafkaEnv = z.object({
  CRM_LEDGER_KAFKA_BROKERS: z
    .string({ error: 'is required: bootstrap brokers, comma-separated host:port' })
    .transform((s) => s.split(',').map((b) => b.trim()))
    .pipe(z.array(z.string().regex(/^[^\s:,]+:\d+$/, 'must be host:port, comma-separated')).min(1)),
  CRM_LEDGER_KAFKA_TOPIC_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be letters, digits, . _ - only')
    .default('crm'),
  CRM_LEDGER_KAFKA_TOPIC_LAYOUT: z.enum(['per-area', 'single']).default('per-area'),
  CRM_LEDGER_KAFKA_PARTITIONS: positiveInt('a positive whole number').default(6),
});
export type KafkaEnv = z.output<typeof KafkaEnv>;

/** `--help` lines for `KafkaEnv`. */
export const KAFKA_ENV_HELP: Readonly<Record<keyof KafkaEnv, string>> = {
  CRM_LEDGER_KAFKA_BROKERS: 'bootstrap brokers, comma-separated host:port (required)',
  CRM_LEDGER_KAFKA_TOPIC_PREFIX: 'prefix of topic names (default crm: crm.relationship, crm.revenue...)',
  CRM_LEDGER_KAFKA_TOPIC_LAYOUT: 'per-area (one topic per area, default) or single (<prefix>.events)',
  CRM_LEDGER_KAFKA_PARTITIONS: 'partitions of topics created by this process (default 6)',
};

/** A positive whole number in an env variable, for the processes' own settings. */
export const envPositiveInt = positiveInt;
