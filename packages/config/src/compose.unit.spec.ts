import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ServiceEnv, deploymentOf, loadServiceConfig } from './deployment.js';

// Docker cannot run on these machines: this checks what can be checked without it. The compose file parses
// (YAML anchors and merge keys resolved as Compose does), holds the expected services, and every crm-ledger
// service's environment is a valid configuration that picks the production stores.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const composeFile = path.join(root, 'infra/docker-compose.yml');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
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
      const config = loadServiceConfig(env);
      if (E.isLeft(config)) throw new Error(config.left.join('\n'));
      const d = deploymentOf(config.right);
      expect([d.eventStore.kind, d.readModel.kind, d.kafka.kind]).toEqual([
        'eventstoredb',
        'postgres',
        'brokers',
      ]);
      expect(config.right.CRM_LEDGER_HOST).toBe('0.0.0.0');
      expect(service.command?.[0]).toBe(`services/${name}/dist/main.js`);
      // the program exists in the workspace (built into dist/ by the image)
      expect(existsSync(path.join(root, `services/${name}/src/main.ts`))).toBe(true);
    },
  );
});
