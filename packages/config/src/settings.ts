import { z } from 'zod';
import { CURRENCIES, recordFrom } from '@crm-ledger/events';
import {
  DEFAULT_SILENT_DAYS,
  HealthWeights,
  SignalRulesInput,
  resolveSignalRules,
  type SignalRules,
} from '@crm-ledger/projections';
import { envBytes, envInt, envList, envName, envNumber, envText } from './values.js';

/** The programs of crm-ledger, by the short name docs/configuration.md uses. */
export const PROGRAMS = {
  cli: 'crm-ledger',
  ingest: 'crm-ledger-ingest',
  projector: 'crm-ledger-projector',
  query: 'crm-ledger-query',
  relay: 'crm-relay',
  inbound: 'crm-inbound',
  example: 'crm-example-consumer',
} as const;
export type Program = keyof typeof PROGRAMS;

/** The sections of docs/configuration.md, in order. */
export const SETTING_GROUPS = [
  'Shared settings',
  'Event store',
  'Read-model store',
  'Personal data (crypto-shredding, [privacy.md](privacy.md))',
  'API keys ([security.md](security.md))',
  'Kafka',
  'Projector',
  'Query API',
  'Scheduled work of `crm-ledger start` and the projector service',
  'Commands of `crm-ledger`',
  'Relay (`crm-relay`)',
  'Inbound consumer (`crm-inbound`)',
  'Example consumer (`crm-example-consumer`)',
] as const;
export type SettingGroup = (typeof SETTING_GROUPS)[number];

/** One setting of a crm-ledger process, declared once: parsing, `--help` and docs/configuration.md derive from it. */
export interface Setting<T extends z.ZodType = z.ZodType> {
  /** Parses the variable's string (the same string a flag gives). */
  readonly type: T;
  /** The default, as written in the environment (parsed by `type`); none: the setting is optional. */
  readonly default?: string;
  /** What docs and `--help` show as the default when it is not a fixed value (e.g. `<data dir>/master.key`). */
  readonly shownDefault?: string;
  /** One line for `--help`. */
  readonly description: string;
  /** The meaning column of docs/configuration.md, when it says more than `description`. */
  readonly doc?: string;
  readonly group: SettingGroup;
  /** The programs that read it (their `--help` lists it). */
  readonly usedBy: readonly Program[];
  /** Programs that cannot run without it: unset (or its empty default) is a wrong value there. */
  readonly requiredBy?: readonly Program[];
  /** The CLI flag that sets it, e.g. `--port <port>` (flags win over the environment). */
  readonly flag?: string;
  /** May hold a credential: never echoed in messages. */
  readonly secret?: boolean;
}

const setting = <const S extends Setting>(s: S): S => s;

const HTTP = ['cli', 'ingest', 'projector', 'query'] as const;
const SCHEMA_NAME = envText(
  /^[a-z][a-z0-9_]{0,53}$/,
  'must be a schema name: a-z, 0-9 and _, starting with a letter, at most 54',
);
const POSTGRES_EXAMPLE = 'postgres://user:password@localhost:5432/crm_ledger';

const healthWeights = z.string().transform((s, ctx): HealthWeights => {
  let value: unknown;
  try {
    value = JSON.parse(s);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON, e.g. {"adoption":25,"outcomes":20,...}' });
    return z.NEVER;
  }
  const r = HealthWeights.safeParse(value);
  if (r.success) return r.data;
  ctx.addIssue({
    code: 'custom',
    message: `must name the weights adoption, outcomes, sentiment, supportFriction, engagementRecency (0-100): ${r.error.issues
      .map((i) => `${i.path.join('.') || '(root)'} ${i.message}`)
      .join('; ')}`,
  });
  return z.NEVER;
});

const signalRules = z.string().transform((s, ctx): SignalRules => {
  let value: unknown;
  try {
    value = JSON.parse(s);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be JSON, e.g. {"renewalApproaching":{"daysBefore":45}}' });
    return z.NEVER;
  }
  const r = SignalRulesInput.safeParse(value);
  if (r.success) return resolveSignalRules(r.data);
  ctx.addIssue({
    code: 'custom',
    message: `must name signal rules and their fields (docs/signals.md): ${r.error.issues
      .map((i) => `${i.path.join('.') || '(root)'} ${i.message}`)
      .join('; ')}`,
  });
  return z.NEVER;
});

/**
 * Every setting of every crm-ledger process, by environment variable. The schemas the processes parse
 * (`LedgerEnv`, `ServiceEnv`, `RelayEnv`...), their `--help` and docs/configuration.md (`pnpm config:docs`,
 * checked by `pnpm schemas:check`) all derive from this one declaration.
 */
export const SETTINGS = {
  // ---- shared
  CRM_LEDGER_DATA_DIR: setting({
    type: envName(),
    default: './.data',
    description: 'data directory',
    doc: 'directory of the embedded stores (`ledger.sqlite`, `readmodel.sqlite`, `keys.db`), API keys, `master.key`',
    group: 'Shared settings',
    usedBy: ['cli', 'ingest', 'projector', 'query', 'relay', 'inbound'],
    flag: '--data-dir <dir>',
  }),
  CRM_LEDGER_HOST: setting({
    type: envText(/^[A-Za-z0-9.:[\]-]+$/, 'must be a host name or IP address, e.g. 127.0.0.1 or 0.0.0.0'),
    default: '127.0.0.1',
    description: 'interface to listen on',
    doc: 'interface the HTTP APIs listen on (`0.0.0.0` in containers)',
    group: 'Shared settings',
    usedBy: HTTP,
    flag: '--host <host>',
  }),
  CRM_LEDGER_PORT: setting({
    type: envInt(0, 65535, 'a port number from 0 to 65535'),
    default: '4100',
    description: 'port to listen on, 0 for any free port',
    doc: 'port of the HTTP API of the process (0: any free port)',
    group: 'Shared settings',
    usedBy: HTTP,
    flag: '--port <port>',
  }),
  CRM_LEDGER_LOG_LEVEL: setting({
    type: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    description: 'fatal | error | warn | info | debug | trace | silent',
    doc: 'pino level: fatal, error, warn, info, debug, trace, silent',
    group: 'Shared settings',
    usedBy: ['cli', 'ingest', 'projector', 'query', 'relay', 'inbound', 'example'],
    flag: '--log-level <level>',
  }),
  CRM_LEDGER_LOG_FORMAT: setting({
    type: z.enum(['auto', 'json', 'pretty']),
    default: 'auto',
    description:
      'auto | json | pretty: pretty is readable lines without per-request lines, auto is pretty on a terminal and JSON lines otherwise',
    doc: "`json` (pino's JSON lines), `pretty` (readable lines, no per-request lines) or `auto`: pretty when stdout is a terminal, JSON otherwise (`crm-ledger start`; the standalone services always write JSON)",
    group: 'Shared settings',
    usedBy: ['cli'],
    flag: '--log-format <format>',
  }),
  CRM_LEDGER_SQLITE_SYNCHRONOUS: setting({
    type: z.enum(['full', 'normal']),
    default: 'full',
    description: 'full | normal: fsync at every commit or at checkpoints',
    doc: 'fsync policy of the SQLite stores: `full` (durable on power loss) or `normal` (see [event-store.md](event-store.md))',
    group: 'Shared settings',
    usedBy: ['cli', 'ingest', 'projector', 'query', 'inbound'],
    flag: '--sqlite-synchronous <mode>',
  }),
  CRM_LEDGER_BODY_LIMIT: setting({
    type: envBytes,
    default: '4mb',
    description: 'largest request body, e.g. 4mb',
    doc: 'largest HTTP request body, e.g. `512kb`, `4mb` (1kb to 256mb)',
    group: 'Shared settings',
    usedBy: ['cli', 'ingest'],
    flag: '--body-limit <size>',
  }),
  CRM_LEDGER_MAX_EVENTS_PER_BATCH: setting({
    type: envInt(1, 10_000, 'a whole number from 1 to 10000'),
    default: '1000',
    description: 'most events per request',
    doc: 'most events per ingest request',
    group: 'Shared settings',
    usedBy: ['cli', 'ingest'],
    flag: '--max-events-per-batch <n>',
  }),
  CRM_LEDGER_RATE_LIMIT_MAX: setting({
    type: envInt(0, 1_000_000, 'a whole number from 0 (off) to 1000000'),
    default: '6000',
    description: 'requests one API key may make per window (429 above); 0 turns rate limiting off',
    doc: 'requests one API key may make per window on the authenticated routes (ingest, query); above it: `429` with `Retry-After` and `{"error":{"code":"rate_limited",...}}`; `0` turns it off. Counted per key id (not per IP), in the memory of each process',
    group: 'Shared settings',
    usedBy: HTTP,
  }),
  CRM_LEDGER_RATE_LIMIT_WINDOW_SECONDS: setting({
    type: envInt(1, 86_400, 'a number of seconds from 1 to 86400'),
    default: '60',
    description: 'length of the rate-limit window, in seconds',
    group: 'Shared settings',
    usedBy: HTTP,
  }),
  CRM_LEDGER_CUSTOMER_ID_POLICY: setting({
    type: z.enum(['opaque', 'any']),
    default: 'opaque',
    description:
      'customer ids ingest accepts: opaque refuses one that looks like an e-mail address or a phone number; any accepts them knowingly',
    doc: "customer ids the HTTP ingest API accepts: `opaque` refuses one that looks like an e-mail address or a phone number (`400`, issue code `personal_customer_id`), because the customer id is the Kafka message key and `ce_subject`, kept forever; `any` accepts them knowingly. `crm-ledger import`, the inbound Kafka consumer and the stores' own validation always use `opaque`",
    group: 'Shared settings',
    usedBy: ['cli', 'ingest'],
  }),
  CRM_LEDGER_REQUEST_TIMEOUT_SECONDS: setting({
    type: envInt(1, 3_600, 'a number of seconds from 1 to 3600'),
    default: '30',
    description: 'a request (headers and body) must arrive within this many seconds',
    doc: 'a request (headers and body) must arrive within this time: 408 `request_timeout` and the connection closed otherwise',
    group: 'Shared settings',
    usedBy: HTTP,
  }),
  CRM_LEDGER_HEADERS_TIMEOUT_SECONDS: setting({
    type: envInt(1, 3_600, 'a number of seconds from 1 to 3600'),
    default: '10',
    description: 'the request headers must arrive within this many seconds (at most the request timeout)',
    group: 'Shared settings',
    usedBy: HTTP,
  }),
  CRM_LEDGER_KEEP_ALIVE_TIMEOUT_SECONDS: setting({
    type: envInt(1, 3_600, 'a number of seconds from 1 to 3600'),
    default: '5',
    description: 'an idle keep-alive connection is closed after this many seconds',
    group: 'Shared settings',
    usedBy: HTTP,
  }),
  CRM_LEDGER_MAX_CONCURRENT_PER_KEY: setting({
    type: envInt(0, 10_000, 'a whole number from 0 (off) to 10000'),
    default: '4',
    description: 'customer-360 requests one API key may have in flight (429 above); 0 = off',
    doc: 'customer-360 requests (live and `?asOf=`) one key may have in flight; above: `429`; `0` = off',
    group: 'Shared settings',
    usedBy: ['cli', 'projector', 'query'],
  }),
  CRM_LEDGER_MAX_CONCURRENT_QUERIES: setting({
    type: envInt(0, 100_000, 'a whole number from 0 (off) to 100000'),
    default: '16',
    description: 'customer-360 requests in flight over all keys (429 above); 0 = off',
    group: 'Shared settings',
    usedBy: ['cli', 'projector', 'query'],
  }),
  CRM_LEDGER_MAX_EVENTS_PER_CUSTOMER: setting({
    type: envInt(0, 1_000_000_000, 'a whole number from 0 (no cap) to 1000000000'),
    default: '1000000',
    description: 'most events in one customer stream (409 stream_full beyond); 0 = no cap',
    doc: 'events in one customer stream; an append past it: `409 stream_full`; `0` = no cap',
    group: 'Shared settings',
    usedBy: ['cli', 'ingest'],
  }),
  // ---- event store
  CRM_LEDGER_EVENT_STORE: setting({
    type: z.enum(['sqlite', 'eventstoredb']),
    default: 'sqlite',
    description:
      'sqlite (ledger.sqlite in the data directory) or eventstoredb (with CRM_LEDGER_EVENTSTOREDB_URL)',
    doc: '`sqlite`: one file `ledger.sqlite` in the data directory; `eventstoredb`: an EventStoreDB server or cluster',
    group: 'Event store',
    usedBy: ['cli', 'ingest', 'projector', 'query', 'relay', 'inbound'],
  }),
  CRM_LEDGER_EVENTSTOREDB_URL: setting({
    type: envText(
      /^esdb(\+discover)?:\/\/\S+$/,
      'must be an EventStoreDB connection string, e.g. esdb://localhost:2113?tls=false',
    ).refine(
      (url) => !/^esdb\+discover:\/\/[^/?]*,/.test(url),
      'lists several hosts after esdb+discover://, where the client gossips with the first one only (with it down, nothing connects): write the seed list esdb://node1:2113,node2:2113,node3:2113, or esdb+discover:// with one DNS name that resolves to every node',
    ),
    description:
      'EventStoreDB connection string: esdb://host:2113?tls=false, or the seed list esdb://node1:2113,node2:2113,node3:2113?tls=true for a cluster',
    doc: 'required with `eventstoredb`: `esdb://host:2113?tls=false` (one node) or the seed list `esdb://n1:2113,n2:2113,n3:2113?tls=true` (cluster: any node may be down). `esdb+discover://` with several hosts is refused (the client would gossip with the first only); `esdb+discover://` with one DNS name that resolves to every node works',
    group: 'Event store',
    usedBy: ['cli', 'ingest', 'projector', 'query', 'relay', 'inbound'],
    secret: true,
  }),
  CRM_LEDGER_EVENTSTOREDB_STREAM_PREFIX: setting({
    type: envText(/^[A-Za-z0-9._:@]{0,40}$/, 'must be at most 40 of A-Z a-z 0-9 . _ : @ (no -)'),
    default: '',
    description:
      "prefix of every EventStoreDB stream the ledger writes and reads (e.g. 'crmledger.'), so another application's customer- streams cannot collide with ours",
    doc: "prefix of every EventStoreDB stream the ledger writes and reads, e.g. `crmledger.`, so another application's `customer-` streams on the same cluster cannot collide with ours (at most 40 of `A-Z a-z 0-9 . _ : @`). Set it once, before the first event: the ledger does not see streams written under another prefix",
    group: 'Event store',
    usedBy: ['cli', 'ingest', 'projector', 'query', 'relay', 'inbound'],
  }),
  CRM_LEDGER_DIGEST_EVERY: setting({
    type: envInt(1, 10_000_000, 'a whole number of events from 1 to 10000000'),
    default: '10000',
    description:
      'events per digest of the global log recorded by the notary (`crm-ledger start`, the projector service)',
    doc: 'events per digest of the global log recorded by the notary of `crm-ledger start` and of the projector service (`ledger_digests` in `ledger.sqlite`, or `ledger-digests.sqlite` with EventStoreDB); see [cli.md](cli.md#verify)',
    group: 'Event store',
    usedBy: ['cli', 'projector'],
  }),
  // ---- projector: where it reads the events from
  CRM_LEDGER_PROJECTOR_SOURCE: setting({
    type: z.enum(['log', 'kafka']),
    default: 'log',
    description:
      "log (one projector follows the ledger's global log) or kafka (projector instances share the views by partition in a Kafka consumer group)",
    doc: "`log`: the projector follows the ledger's global log, one active runner per view (the default, and the only mode with SQLite); `kafka`: projector instances in one consumer group (`CRM_LEDGER_PROJECTOR_GROUP_ID`) each build every view for the customers of the partitions the group assigns them, reading the relay's `single`-layout topic; needs `CRM_LEDGER_READ_MODEL_STORE=postgres`, `CRM_LEDGER_KAFKA_BROKERS` and `CRM_LEDGER_KAFKA_TOPIC_LAYOUT=single` (see [deploy.md](deploy.md#scaling-out-the-projector-kafka-mode))",
    group: 'Projector',
    usedBy: ['cli', 'projector'],
  }),
  CRM_LEDGER_PROJECTOR_GROUP_ID: setting({
    type: envName(200),
    default: 'crm-ledger-projector',
    description: 'Kafka consumer group of the projector instances (kafka mode)',
    doc: 'Kafka consumer group of the projector instances in `kafka` mode; the offsets the views cover are stored under it in the read-model schema (`_partition_offsets`), so a new group id starts the views of a new schema from the beginning',
    group: 'Projector',
    usedBy: ['cli', 'projector'],
  }),
  CRM_LEDGER_PROJECTOR_SESSION_TIMEOUT_MS: setting({
    type: envInt(6_000, 300_000, 'a whole number of milliseconds from 6000 to 300000'),
    default: '30000',
    description:
      "Kafka session timeout of a projector instance (kafka mode): how long a dead instance's partitions wait before the group gives them to the others",
    group: 'Projector',
    usedBy: ['cli', 'projector'],
  }),
  CRM_LEDGER_PROJECTOR_FETCH_MAX_BYTES: setting({
    type: envBytes,
    default: '8mb',
    description:
      'bytes a projector instance fetches from one partition per request (kafka mode): the size of its batches, e.g. 8mb',
    doc: "bytes a projector instance fetches from one partition per request in `kafka` mode, e.g. `8mb` (1kb to 256mb). One fetch of a partition is one PostgreSQL transaction of the views, so this sets the batch size: 8 MiB is about 11,000 of the relay's messages. Smaller batches cost more PostgreSQL CPU per event (kafkajs's own default, 1 MiB, about 1.5x: docs/benchmarks.md, kafka-catchup); an instance holds up to about 50 MiB of fetched messages at once",
    group: 'Projector',
    usedBy: ['cli', 'projector'],
  }),
  CRM_LEDGER_PROJECTOR_CONCURRENCY: setting({
    type: envInt(1, 64, 'a whole number from 1 to 64'),
    default: '3',
    description: 'partitions one projector instance applies at once (kafka mode)',
    group: 'Projector',
    usedBy: ['cli', 'projector'],
  }),
  // ---- read models
  CRM_LEDGER_READ_MODEL_STORE: setting({
    type: z.enum(['sqlite', 'postgres']),
    default: 'sqlite',
    description: 'sqlite (readmodel.sqlite in the data directory) or postgres (with CRM_LEDGER_POSTGRES_URL)',
    doc: '`sqlite`: one file `readmodel.sqlite` in the data directory; `postgres`: a PostgreSQL database',
    group: 'Read-model store',
    usedBy: ['cli', 'projector', 'query', 'relay'],
  }),
  CRM_LEDGER_POSTGRES_URL: setting({
    type: envText(/^postgres(ql)?:\/\/\S+$/, `must be a PostgreSQL URL, e.g. ${POSTGRES_EXAMPLE}`),
    description:
      'PostgreSQL URL of the read models, the key store and the API keys when they are in PostgreSQL',
    doc: 'required with `postgres`: `postgres://user:password@host:5432/database` (add `?sslmode=verify-full` in production)',
    group: 'Read-model store',
    usedBy: ['cli', 'ingest', 'projector', 'query', 'relay', 'inbound'],
    secret: true,
  }),
  CRM_LEDGER_POSTGRES_SCHEMA: setting({
    type: SCHEMA_NAME,
    default: 'crm_ledger',
    description: 'PostgreSQL schema of the read models',
    doc: 'schema of this deployment: views, `_projections`, `_checkpoints`; rebuilds use `<schema>__rebuild`',
    group: 'Read-model store',
    usedBy: ['cli', 'projector', 'query', 'relay'],
  }),
  // ---- personal data
  CRM_LEDGER_KEY_STORE: setting({
    type: z.enum(['sqlite', 'postgres']),
    default: 'sqlite',
    description: 'sqlite (keys.db in the data directory) or postgres',
    doc: 'where customer keys live: `sqlite` (`keys.db` in the data directory, never the ledger file) or `postgres` (needs `CRM_LEDGER_POSTGRES_URL`)',
    group: 'Personal data (crypto-shredding, [privacy.md](privacy.md))',
    usedBy: ['cli', 'ingest', 'query', 'inbound'],
  }),
  CRM_LEDGER_KEY_STORE_SCHEMA: setting({
    type: SCHEMA_NAME,
    default: 'crm_ledger_keys',
    description: 'PostgreSQL schema of the key store, apart from the views',
    group: 'Personal data (crypto-shredding, [privacy.md](privacy.md))',
    usedBy: ['cli', 'ingest', 'query', 'inbound'],
  }),
  // ---- API keys
  CRM_LEDGER_AUTH_STORE: setting({
    type: z.enum(['sqlite', 'postgres']),
    default: 'sqlite',
    description:
      'where API keys and the contact access log live: sqlite (auth.sqlite in the data directory) or postgres',
    doc: 'where API keys (hashes) and the contact access log live: `sqlite` (`auth.sqlite` in the data directory: the processes of one host) or `postgres` (a schema in `CRM_LEDGER_POSTGRES_URL`: every process of every host of the deployment shares the keys, and a revocation is refused everywhere at the next request); see [security.md](security.md#keys-shared-by-several-hosts)',
    group: 'API keys ([security.md](security.md))',
    usedBy: HTTP,
  }),
  CRM_LEDGER_AUTH_STORE_SCHEMA: setting({
    type: SCHEMA_NAME,
    default: 'crm_ledger_auth',
    description: 'PostgreSQL schema of the API keys and the contact access log',
    group: 'API keys ([security.md](security.md))',
    usedBy: HTTP,
  }),
  CRM_LEDGER_MASTER_KEY: setting({
    type: envText(
      /^[A-Za-z0-9+/_-]{43}=?$/,
      'must be base64 of 32 random bytes, e.g. from: openssl rand -base64 32',
    ),
    description: 'base64 of 32 bytes; default: the file CRM_LEDGER_MASTER_KEY_FILE',
    doc: 'base64 of 32 random bytes (`openssl rand -base64 32`) wrapping every customer key; unset: the file `CRM_LEDGER_MASTER_KEY_FILE`. A secret: never echoed. Every process of a deployment needs the same one',
    group: 'Personal data (crypto-shredding, [privacy.md](privacy.md))',
    usedBy: ['cli', 'ingest', 'query', 'inbound'],
    secret: true,
  }),
  CRM_LEDGER_MASTER_KEY_FILE: setting({
    type: envName(),
    shownDefault: '<data dir>/master.key',
    description: 'file holding the master key (base64 of 32 bytes, mode 0600)',
    doc: 'the master key as a file (mode 0600; created when missing and no customer key exists yet, never once one does)',
    group: 'Personal data (crypto-shredding, [privacy.md](privacy.md))',
    usedBy: ['cli', 'ingest', 'query', 'inbound'],
  }),
  CRM_LEDGER_PROFILE: setting({
    type: z.enum(['development', 'production']),
    default: 'development',
    description: 'production refuses a master key file inside the data directory',
    doc: '`production` refuses a master key file inside the data directory ([privacy.md](privacy.md#the-master-key))',
    group: 'Personal data (crypto-shredding, [privacy.md](privacy.md))',
    usedBy: ['cli', 'ingest', 'query', 'inbound'],
  }),
  // ---- Kafka: one schema for every process. `off` (the default) is the empty broker list: Kafka off; the
  // programs that exist to talk to Kafka (relay, inbound, example consumer) require brokers.
  CRM_LEDGER_KAFKA_BROKERS: setting({
    type: envList(/^[A-Za-z0-9.-]+:\d{1,5}$/, "'off' or host:port[,host:port...]", 'off'),
    default: 'off',
    description: 'bootstrap brokers, comma-separated host:port',
    doc: '`off`, or bootstrap brokers `host:port[,host:port...]`; `off` (or unset) turns Kafka off, which the relay, the inbound consumer and the example consumer refuse: they need brokers',
    group: 'Kafka',
    usedBy: ['relay', 'inbound', 'example', 'projector', 'cli'],
    requiredBy: ['relay', 'inbound', 'example'],
  }),
  CRM_LEDGER_KAFKA_CLIENT_ID: setting({
    type: envName(100),
    default: 'crm-ledger',
    description: 'Kafka client id',
    doc: 'Kafka client id (the relay, the inbound and the example consumer use their own: `crm-ledger-relay`, ...)',
    group: 'Kafka',
    usedBy: [],
  }),
  CRM_LEDGER_KAFKA_TOPIC_PREFIX: setting({
    type: envText(/^[A-Za-z0-9._-]{1,200}$/, 'must be letters, digits, . _ - only'),
    default: 'crm',
    description: 'prefix of topic names (crm.relationship, crm.revenue...)',
    doc: 'topics `crm.relationship`, `crm.revenue`, ... (or `crm.events`)',
    group: 'Kafka',
    usedBy: ['relay', 'inbound', 'example', 'projector', 'cli'],
  }),
  CRM_LEDGER_KAFKA_TOPIC_LAYOUT: setting({
    type: z.enum(['per-area', 'single']),
    default: 'per-area',
    description: 'per-area (one topic per area) or single (<prefix>.events)',
    doc: '`per-area` (one topic per area) or `single` (`<prefix>.events`)',
    group: 'Kafka',
    usedBy: ['relay', 'inbound', 'example', 'projector', 'cli'],
  }),
  CRM_LEDGER_KAFKA_PARTITIONS: setting({
    type: envInt(1, 1000, 'a whole number from 1 to 1000'),
    default: '6',
    description: 'partitions of topics created by this process',
    doc: 'partitions of the topics the relay creates; choose it up front (see [deploy.md](deploy.md))',
    group: 'Kafka',
    usedBy: ['relay', 'inbound'],
  }),
  // ---- query API
  CRM_LEDGER_SILENT_DAYS: setting({
    type: envInt(1, 3_650, 'a whole number of days from 1 to 3650'),
    default: String(DEFAULT_SILENT_DAYS),
    description:
      'days without interaction after which a customer counts as silent (churn reason, lists, dashboard)',
    doc: 'days without interaction after which a customer is silent: the churn reason "silent for more than N days", the list\'s `silentAfterDays` and the dashboard\'s silent tile and list all use this one number',
    group: 'Query API',
    usedBy: ['cli', 'ingest', 'projector', 'query'],
  }),
  CRM_LEDGER_HEALTH_WEIGHTS: setting({
    type: healthWeights,
    description:
      'health score weights as JSON, e.g. {"adoption":25,"outcomes":20,"sentiment":20,"supportFriction":15,"engagementRecency":20}',
    doc: 'health score weights as JSON, e.g. `{"adoption":25,"outcomes":20,"sentiment":20,"supportFriction":15,"engagementRecency":20}`; unset: those built-in weights',
    group: 'Query API',
    usedBy: ['cli', 'ingest', 'projector', 'query'],
  }),
  CRM_LEDGER_CUT_CACHE_SIZE: setting({
    type: envInt(1, 64, 'a whole number of cuts from 1 to 64'),
    default: '4',
    description: 'past cuts whose views a query process keeps built (the most recently used)',
    doc: "how many past cuts (`asOf`/`asKnownAt` of lists and aggregates) a query process keeps built, the most recently used; each costs the views' size (SQLite: memory; PostgreSQL: a scratch schema), and a cut not kept is built again on its next request ([read-models.md](read-models.md))",
    group: 'Query API',
    usedBy: ['cli', 'ingest', 'projector', 'query'],
  }),
  // ---- scheduled work of crm-ledger start
  CRM_LEDGER_CLV_REFIT_HOURS: setting({
    type: envNumber(0, 8760, 'a number of hours from 0 (off) to 8760'),
    default: '24',
    description: 'hours between scheduled CLV refits (`crm-ledger start`, the projector service; 0: off)',
    group: 'Scheduled work of `crm-ledger start` and the projector service',
    usedBy: ['cli', 'projector'],
  }),
  CRM_LEDGER_CLV_CURRENCY: setting({
    type: z.string().trim().toUpperCase().pipe(z.enum(CURRENCIES)),
    default: 'USD',
    description: 'the currency of the scheduled fit (purchases in others are left out)',
    group: 'Scheduled work of `crm-ledger start` and the projector service',
    usedBy: ['cli', 'projector'],
  }),
  CRM_LEDGER_SIGNAL_RULES: setting({
    type: signalRules,
    default: '{}',
    description:
      'signal rules as JSON over the defaults, e.g. {"renewalApproaching":{"daysBefore":45},"expansionSuggested":{"enabled":false}}',
    doc: 'the signal engine\'s rules as JSON, merged over the defaults (docs/signals.md): per rule `enabled` and its thresholds, e.g. `{"renewalApproaching":{"daysBefore":45},"segments":{"B2C":{"wentSilent":{"enabled":false}}}}`; a rule that is off raises nothing. Silence uses `CRM_LEDGER_SILENT_DAYS`, health the `CRM_LEDGER_HEALTH_WEIGHTS`',
    group: 'Scheduled work of `crm-ledger start` and the projector service',
    usedBy: ['cli', 'ingest'],
  }),
  CRM_LEDGER_SIGNALS_EVERY_SECONDS: setting({
    type: envNumber(0, 86_400, 'a number of seconds from 0 (off) to 86400'),
    default: '0',
    description:
      'seconds between passes of the signal engine (`crm-ledger start`, the ingest service; 0, the default: off)',
    doc: 'seconds between passes of the signal engine (`crm-ledger start`, the ingest service), each for the customers with new events or a rule due, e.g. `60`; `0` (the default) leaves the engine off: it appends events to the ledger, so a deployment turns it on knowingly (docs/signals.md)',
    group: 'Scheduled work of `crm-ledger start` and the projector service',
    usedBy: ['cli', 'ingest'],
  }),
  // ---- commands of the CLI
  CRM_LEDGER_API_KEY: setting({
    type: envName(),
    description:
      "API key with the 'erase' or 'admin' scope for crm-ledger erase, when --key-file is not given",
    group: 'Commands of `crm-ledger`',
    usedBy: ['cli'],
    secret: true,
  }),
  // ---- relay
  CRM_LEDGER_RELAY_NAME: setting({
    type: envName(100),
    default: 'kafka-relay',
    description: 'checkpoint name: one per relay and target cluster',
    group: 'Relay (`crm-relay`)',
    usedBy: ['relay'],
  }),
  CRM_LEDGER_RELAY_CHECKPOINT_FILE: setting({
    type: envName(),
    shownDefault: '<data dir>/relay-checkpoints.sqlite',
    description: 'SQLite file of the checkpoint',
    doc: 'SQLite file of the checkpoint; unset with `CRM_LEDGER_EVENT_STORE=eventstoredb`: the checkpoint lives in PostgreSQL (`<schema>._checkpoints`) when `CRM_LEDGER_READ_MODEL_STORE=postgres`, else in the data directory',
    group: 'Relay (`crm-relay`)',
    usedBy: ['relay'],
  }),
  CRM_LEDGER_RELAY_MODE: setting({
    type: z.enum(['follow', 'catch-up']),
    default: 'follow',
    description: 'follow (wait for new events) or catch-up (exit 0 at the end of the log)',
    group: 'Relay (`crm-relay`)',
    usedBy: ['relay'],
  }),
  CRM_LEDGER_RELAY_BATCH_SIZE: setting({
    type: envInt(1, Number.MAX_SAFE_INTEGER, 'a positive whole number'),
    default: '2000',
    description: 'events read from the ledger per page',
    group: 'Relay (`crm-relay`)',
    usedBy: ['relay'],
  }),
  CRM_LEDGER_RELAY_MAX_SEND_BYTES: setting({
    type: envInt(1, Number.MAX_SAFE_INTEGER, 'a positive whole number'),
    default: '900000',
    description: 'largest send to the broker, bytes (under the 1 MiB limit)',
    group: 'Relay (`crm-relay`)',
    usedBy: ['relay'],
  }),
  CRM_LEDGER_RELAY_RETRIES: setting({
    type: envInt(1, 100, 'a whole number from 1 to 100'),
    default: '8',
    description: 'retries of a failed send before the relay stops (back-off up to 30 s)',
    group: 'Relay (`crm-relay`)',
    usedBy: ['relay'],
  }),
  // ---- inbound
  CRM_LEDGER_INBOUND_TOPIC: setting({
    type: envName(),
    shownDefault: '<prefix>.inbound',
    description: 'the topic other systems publish interactions on',
    group: 'Inbound consumer (`crm-inbound`)',
    usedBy: ['inbound'],
  }),
  CRM_LEDGER_INBOUND_DEAD_LETTER_TOPIC: setting({
    type: envName(),
    shownDefault: '<inbound topic>.dlq',
    description: 'where invalid messages go, with the validation issues in their headers',
    group: 'Inbound consumer (`crm-inbound`)',
    usedBy: ['inbound'],
  }),
  CRM_LEDGER_INBOUND_GROUP_ID: setting({
    type: envName(),
    default: 'crm-ledger-inbound',
    description: 'consumer group',
    group: 'Inbound consumer (`crm-inbound`)',
    usedBy: ['inbound'],
  }),
  // ---- example consumer
  CRM_LEDGER_EXAMPLE_GROUP_ID: setting({
    type: envName(),
    default: 'crm-example-open-tickets',
    description: 'consumer group',
    group: 'Example consumer (`crm-example-consumer`)',
    usedBy: ['example'],
  }),
} as const;

export type SettingName = keyof typeof SETTINGS;

/** The zod schema of one setting: its type with its default (parsed like an env value), or optional. */
export type SettingSchema<N extends SettingName> = (typeof SETTINGS)[N] extends {
  type: infer T extends z.ZodType;
  default: string;
}
  ? z.ZodPrefault<T>
  : (typeof SETTINGS)[N] extends { type: infer T extends z.ZodType }
    ? z.ZodOptional<T>
    : never;

export function settingSchema<N extends SettingName>(name: N): SettingSchema<N> {
  const s: Setting = SETTINGS[name];
  return (s.default === undefined ? s.type.optional() : s.type.prefault(s.default)) as SettingSchema<N>;
}

/** The zod object of some settings, e.g. a process's own. */
export function settingsSchema<const N extends readonly SettingName[]>(
  names: N,
): z.ZodObject<{ [K in N[number]]: SettingSchema<K> }> {
  return z.object(recordFrom(names.map((n) => [n, settingSchema(n)]))) as unknown as z.ZodObject<{
    [K in N[number]]: SettingSchema<K>;
  }>;
}

/** The declaration of a setting, as a `Setting`. */
export const settingOf = (name: SettingName): Setting => SETTINGS[name];

/** Every setting, in declaration order. */
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** The settings a program reads, in declaration order. */
export function settingsUsedBy<P extends Program>(program: P): UsedBy<P>[] {
  return SETTING_NAMES.filter((n) => settingOf(n).usedBy.includes(program)) as UsedBy<P>[];
}

/** The names of the settings `usedBy` a program, as a type. */
export type UsedBy<P extends Program> = {
  [K in SettingName]: P extends (typeof SETTINGS)[K]['usedBy'][number] ? K : never;
}[SettingName];

/** The zod object of every setting a program reads (`usedBy`). */
export function programSchema<P extends Program>(
  program: P,
): z.ZodObject<{ [K in UsedBy<P>]: SettingSchema<K> }> {
  return settingsSchema(settingsUsedBy(program));
}

/** What docs and `--help` show as the default of a setting, or undefined. */
export function shownDefault(name: SettingName): string | undefined {
  const s = settingOf(name);
  return s.shownDefault ?? (s.default === '' ? undefined : s.default);
}

/** Variables whose values may hold credentials: never echoed in messages. */
export const SECRET_VARIABLES: readonly string[] = SETTING_NAMES.filter((n) => settingOf(n).secret === true);
