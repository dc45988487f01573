import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ServiceEnv, deploymentOf, loadServiceConfig } from './deployment.js';
import { SETTINGS, SETTING_NAMES } from './settings.js';

// Docker cannot run on these machines: this checks what can be checked without it. The compose file parses
// (YAML anchors and merge keys resolved as Compose does), holds the expected services, and every crm-ledger
// service's environment is a valid configuration that picks the production stores; no credential is in the file
// (secrets come from infra/secrets/, git-ignored, made by infra/make-secrets.sh), published ports are on
// 127.0.0.1 only, and every hop without TLS says so.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const composeFile = path.join(root, 'infra/docker-compose.yml');

interface ComposeService {
  image?: string;
  env_file?: string[];
  secrets?: string[];
  ports?: string[];
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const composeText = readFileSync(composeFile, 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file: string }>;
};

/** What infra/make-secrets.sh writes, made in a temporary directory: the env file every ledger service reads. */
const secretsDir = mkdtempSync(path.join(tmpdir(), 'crm-ledger-compose-secrets-'));
const generated = path.join(secretsDir, 'secrets');
execFileSync('sh', [path.join(root, 'infra/make-secrets.sh'), generated], { stdio: 'ignore' });
const envFile = Object.fromEntries(
  readFileSync(path.join(generated, 'crm-ledger.env'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
afterAll(() => rmSync(secretsDir, { recursive: true, force: true }));
const SECRET_SETTINGS = SETTING_NAMES.filter((n) => (SETTINGS[n] as { secret?: boolean }).secret === true);
const LEDGER_SERVICES = ['ingest', 'projector', 'relay', 'query'] as const;

describe('infra/docker-compose.yml', () => {
  it('runs EventStoreDB, Kafka, PostgreSQL and the four crm-ledger services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['eventstoredb', 'kafka', 'postgres', ...LEDGER_SERVICES].sort(),
    );
    expect(compose.services.eventstoredb!.image).toMatch(/^eventstore\/eventstore:(23\.10|24\.)/);
    expect(compose.services.kafka!.image).toBe('apache/kafka:3.9.1');
    expect(compose.services.postgres!.image).toMatch(/^postgres:16/);
    for (const s of ['eventstoredb', 'kafka', 'postgres'])
      expect(compose.services[s]!.healthcheck).toBeDefined();
  });

  it.each(LEDGER_SERVICES)(
    '%s: built from infra/Dockerfile, waits for healthy stores, valid configuration',
    (name) => {
      const service = compose.services[name]!;
      expect(service.build).toEqual({ context: '..', dockerfile: 'infra/Dockerfile' });
      expect(existsSync(path.join(root, 'infra/Dockerfile'))).toBe(true);
      expect(Object.keys(service.depends_on ?? {}).sort()).toEqual(['eventstoredb', 'kafka', 'postgres']);
      const env = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]),
      );
      const unknown = Object.keys(env).filter((k) => k.startsWith('CRM_LEDGER_') && !(k in ServiceEnv.shape));
      expect(unknown).toEqual([]);
      // no credential in a setting that may hold one: passwords come from the git-ignored env file
      const withCredentials = Object.entries(env).filter(
        ([k, v]) => (SECRET_SETTINGS as string[]).includes(k) && /\/\/[^/@\s]+@/.test(v),
      );
      expect(withCredentials).toEqual([]);
      expect(env.CRM_LEDGER_POSTGRES_URL).toBeUndefined();
      expect(env.CRM_LEDGER_MASTER_KEY).toBeUndefined();
      expect(service.env_file).toEqual(['./secrets/crm-ledger.env']);
      const config = loadServiceConfig({ ...env, ...envFile });
      if (E.isLeft(config)) throw new Error(config.left.join('\n'));
      const d = deploymentOf(config.right);
      expect([d.eventStore.kind, d.readModel.kind, d.kafka.kind]).toEqual([
        'eventstoredb',
        'postgres',
        'brokers',
      ]);
      expect(config.right.CRM_LEDGER_HOST).toBe('0.0.0.0');
      // customer keys and API keys shared by every service; the master key never in the data directory
      expect([d.keyStore.kind, d.authStore.kind, d.masterKey.profile]).toEqual([
        'postgres',
        'postgres',
        'production',
      ]);
      expect(config.right.CRM_LEDGER_MASTER_KEY).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(service.command?.[0]).toBe(`services/${name}/dist/main.js`);
      // the program exists in the workspace (built into dist/ by the image)
      expect(existsSync(path.join(root, `services/${name}/src/main.ts`))).toBe(true);
    },
  );

  it('holds no credential: PostgreSQL reads its password from a Docker secret in git-ignored infra/secrets/', () => {
    expect(composeText).not.toMatch(/POSTGRES_PASSWORD:/);
    expect(composeText).not.toMatch(/[a-z]+:\/\/[^\s:/@]+:[^\s@]+@/i); // no user:password@ in any URL
    const postgres = compose.services.postgres!;
    expect(postgres.environment?.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/postgres_password');
    expect(postgres.secrets).toEqual(['postgres_password']);
    expect(compose.secrets).toEqual({ postgres_password: { file: './secrets/postgres_password' } });
    const ignored = execFileSync(
      'git',
      ['check-ignore', 'infra/secrets/crm-ledger.env', 'infra/secrets/postgres_password'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(ignored.trim().split('\n')).toHaveLength(2);
  });

  it('infra/make-secrets.sh writes private secrets once and never overwrites them', () => {
    expect(statSync(generated).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(generated, 'crm-ledger.env')).mode & 0o777).toBe(0o600);
    const password = readFileSync(path.join(generated, 'postgres_password'), 'utf8');
    expect(password).toMatch(/^[A-Za-z0-9]{24,}$/);
    expect(envFile.CRM_LEDGER_POSTGRES_URL).toBe(
      `postgres://crm_ledger:${password}@postgres:5432/crm_ledger`,
    );
    const before = readFileSync(path.join(generated, 'crm-ledger.env'), 'utf8');
    expect(() =>
      execFileSync('sh', [path.join(root, 'infra/make-secrets.sh'), generated], { stdio: 'ignore' }),
    ).toThrow();
    expect(readFileSync(path.join(generated, 'crm-ledger.env'), 'utf8')).toBe(before);
  });

  it('publishes every port on 127.0.0.1 only, and says FOR A LAPTOP on every hop without TLS', () => {
    const ports = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(ports.length).toBeGreaterThan(0);
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    const header = composeText.slice(0, composeText.indexOf('name: crm-ledger'));
    expect(header).toMatch(/FOR A LAPTOP ONLY/);
    for (const hop of [
      /clients -> ingest\/query API: plain HTTP/,
      /ledger -> EventStoreDB: --insecure/,
      /ledger -> PostgreSQL: NO TLS/,
      /relay -> Kafka: a PLAINTEXT listener/,
    ])
      expect(header).toMatch(hop);
    // and beside each insecure setting itself
    const lines = composeText.split('\n');
    for (const setting of [
      /EVENTSTORE_INSECURE: 'true'/,
      /tls=false/,
      /KAFKA_LISTENER_SECURITY_PROTOCOL_MAP/,
    ]) {
      const i = lines.findIndex((l) => setting.test(l));
      expect(i).toBeGreaterThan(0);
      expect(lines[i - 1]).toMatch(/FOR A LAPTOP/);
    }
  });
});
