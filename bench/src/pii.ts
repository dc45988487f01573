/**
 * Crypto-shredding benchmark: the cost of encrypting personal fields on the append path.
 *
 * 1. `vault.encrypt` alone over synthetic customer histories (one call per customer, as one append): CPU µs per
 *    event that carries personal fields (key getOrCreate in the SQLite key store + HKDF + AES-256-GCM with a
 *    synthetic IV per field), and per event of the whole history.
 * 2. The same histories appended into a fresh SQLite event store (synchronous=normal), plain and behind the
 *    encrypting decorator, in the same process and run: CPU µs per event of each and their ratio.
 * 3. Decryption at the edge (`vault.reader().decrypt`, what export and the 360 do): CPU µs per personal event.
 *
 * CPU time (process.cpuUsage) rather than wall time: the machine is shared.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/lib/Either.js';
import type { EventStore } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { encryptingEventStore, personalFieldsOf, PiiVault } from '@crm-ledger/pii';
import { openSqliteKeyStore } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { generateHistory, type CustomerHistory } from '@crm-ledger/synthetic';
import { tempDir } from './lib/cleanup.js';

const HELP = `Usage: node bench/dist/pii.js [--customers 2000] [--events 200000] [--out FILE] [--smoke]

Measures the CPU cost of encrypting personal fields (crypto-shredding) on the append path.`;

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '2000' },
    events: { type: 'string', default: '200000' },
    out: { type: 'string' },
    smoke: { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
if (values.help === true) {
  console.log(HELP);
  process.exit(0);
}
// --smoke: 50 customers, ~2,000 events (seconds; CI)
const customers = Number(values.smoke === true ? 50 : values.customers);
const targetEvents = Number(values.smoke === true ? 2000 : values.events);

const cpuMicros = async (f: () => Promise<void>): Promise<number> => {
  const u0 = process.cpuUsage();
  await f();
  const u = process.cpuUsage(u0);
  return u.user + u.system;
};

const histories: CustomerHistory[] = [...generateHistory({ seed: 5, customers, targetEvents })];
const events = histories.reduce((n, h) => n + h.events.length, 0);
const personalEvents = histories.reduce(
  (n, h) => n + h.events.filter((e) => personalFieldsOf(e).length > 0).length,
  0,
);
const personalFields = histories.reduce(
  (n, h) => n + h.events.reduce((m, e) => m + personalFieldsOf(e).length, 0),
  0,
);
const work = tempDir('crm-ledger-bench-pii-');

try {
  // 1. encryption alone
  const keys = openSqliteKeyStore({ file: path.join(work, 'keys.db'), masterKey: randomBytes(32) });
  const vault = new PiiVault(keys);
  const encrypted: RawEnvelope[][] = [];
  const encryptFirst = await cpuMicros(async () => {
    for (const h of histories) {
      const r = await vault.encrypt(h.customerId, h.events);
      if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
      encrypted.push(r.right);
    }
  });
  // again: keys exist now (the steady state of a customer's later appends)
  const encryptAgain = await cpuMicros(async () => {
    for (const h of histories) await vault.encrypt(h.customerId, h.events);
  });

  // 3. decryption at the edge
  const reader = vault.reader();
  const decrypt = await cpuMicros(async () => {
    for (const batch of encrypted)
      for (const e of batch) if (personalFieldsOf(e).length > 0) await reader.decrypt(e);
  });

  // The external reference: node:crypto AES-256-GCM alone over the same personal fields (a fresh 96-bit IV
  // each, one key), no code of ours: the floor of encrypting them.
  const aesKey = randomBytes(32);
  const rawAes = await cpuMicros(async () => {
    for (const h of histories)
      for (const e of h.events)
        for (const f of personalFieldsOf(e)) {
          const cipher = createCipheriv('aes-256-gcm', aesKey, randomBytes(12));
          cipher.update(JSON.stringify((e.data as Record<string, unknown>)[f]), 'utf8');
          cipher.final();
          cipher.getAuthTag();
        }
    return Promise.resolve();
  });

  // 2. appends, plain and encrypted, into fresh stores
  const appendAll = async (store: EventStore) =>
    cpuMicros(async () => {
      for (const h of histories) {
        const r = await store.append(customerStream(h.customerId), h.events);
        if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
      }
    });
  const plainStore = openSqliteEventStore({
    file: path.join(work, 'plain.sqlite'),
    synchronous: 'normal',
    validation: 'envelope',
  });
  const plain = await appendAll(plainStore);
  await plainStore.close();
  const encKeys = openSqliteKeyStore({ file: path.join(work, 'keys2.db'), masterKey: randomBytes(32) });
  const encStore = encryptingEventStore(
    openSqliteEventStore({
      file: path.join(work, 'enc.sqlite'),
      synchronous: 'normal',
      validation: 'envelope',
    }),
    new PiiVault(encKeys),
    { validate: false },
  );
  const withEncryption = await appendAll(encStore);
  await encStore.close();
  await encKeys.close();
  await keys.close();

  const r2 = (x: number) => Math.round(x * 100) / 100;
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadavg: loadavg().map(r2) },
    node: process.version,
    histories: { customers, events, personalEvents, personalFields },
    encrypt: {
      cpuMicrosPerPersonalEvent: r2(encryptFirst / personalEvents),
      cpuMicrosPerPersonalEventKeysExist: r2(encryptAgain / personalEvents),
      cpuMicrosPerField: r2(encryptFirst / personalFields),
      cpuMicrosPerEventOfHistory: r2(encryptFirst / events),
    },
    decrypt: { cpuMicrosPerPersonalEvent: r2(decrypt / personalEvents) },
    reference: {
      what: 'node:crypto AES-256-GCM alone over the same personal fields, a fresh IV each (external)',
      cpuMicrosPerPersonalEvent: r2(rawAes / personalEvents),
      encryptOverReference: r2(encryptFirst / rawAes),
    },
    append: {
      plainCpuMicrosPerEvent: r2(plain / events),
      encryptedCpuMicrosPerEvent: r2(withEncryption / events),
      ratio: r2(withEncryption / plain),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  if (values.out !== undefined) {
    mkdirSync(path.dirname(values.out), { recursive: true });
    writeFileSync(values.out, JSON.stringify(result, null, 2) + '\n');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
