import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock, Logger } from '@crm-ledger/core';
import { openSqliteReadModel, type SqliteReadModel } from '@crm-ledger/sqlite';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { ClvRefitScheduler, dayBefore, refitDecision } from './refit.js';
import { appendSimulatedPurchases } from './simulated-history.js';

const H = 3_600_000;

describe('refitDecision', () => {
  const now = '2026-03-10T12:00:00.000Z';
  it('is off at 0 hours', () => {
    expect(refitDecision({ everyHours: 0, lastFittedAt: undefined, ledgerHasEvents: true, now })).toEqual({
      kind: 'off',
    });
  });
  it('fits at once when no fit exists and the ledger has events, else checks again later', () => {
    expect(refitDecision({ everyHours: 24, lastFittedAt: undefined, ledgerHasEvents: true, now })).toEqual({
      kind: 'fit',
      reason: 'no-fit-yet',
    });
    expect(refitDecision({ everyHours: 24, lastFittedAt: undefined, ledgerHasEvents: false, now })).toEqual({
      kind: 'wait',
      ms: 60_000,
    });
  });
  it('waits until the last fit is everyHours old, then fits', () => {
    const last = '2026-03-10T02:00:00.000Z';
    expect(refitDecision({ everyHours: 24, lastFittedAt: last, ledgerHasEvents: true, now })).toEqual({
      kind: 'wait',
      ms: 14 * H,
    });
    expect(refitDecision({ everyHours: 6, lastFittedAt: last, ledgerHasEvents: true, now })).toEqual({
      kind: 'fit',
      reason: 'due',
    });
  });
  it('windows end on the day before the run', () => {
    expect(dayBefore('2026-03-01T00:30:00.000Z')).toBe('2026-02-28');
  });
});

/** A timer that records what was scheduled; the test fires it by hand. */
function manualTimer() {
  const pending: { fn: () => void; ms: number; id: number }[] = [];
  let id = 0;
  return {
    pending,
    set(fn: () => void, ms: number) {
      pending.push({ fn, ms, id: ++id });
      return id;
    },
    clear(handle: unknown) {
      const i = pending.findIndex((p) => p.id === handle);
      if (i >= 0) pending.splice(i, 1);
    },
    fire(): void {
      const next = pending.shift();
      if (next === undefined) throw new Error('nothing scheduled');
      next.fn();
    },
  };
}

function recordingLog(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    debug: () => undefined,
    info: (_f, message) => lines.push({ level: 'info', message }),
    warn: (_f, message) => lines.push({ level: 'warn', message }),
    error: (_f, message) => lines.push({ level: 'error', message }),
  };
}

/** A clock the test moves. */
function movableClock(start: string): Clock & { advance(ms: number): void } {
  let t = Date.parse(start);
  return { now: () => new Date(t).toISOString(), advance: (ms) => (t += ms) };
}

describe('ClvRefitScheduler over a real SQLite store and read model', () => {
  let dir: string;
  let store: ReturnType<typeof openSqliteEventStore>;
  let readModel: SqliteReadModel;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'clv-refit-'));
    store = openSqliteEventStore({ file: path.join(dir, 'events.sqlite') });
    readModel = openSqliteReadModel({ file: path.join(dir, 'readmodel.sqlite') });
  });
  afterEach(async () => {
    await readModel.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const scheduler = (clock: Clock, timer: ReturnType<typeof manualTimer>, log: Logger, everyHours = 24) =>
    new ClvRefitScheduler({ store, readModel, clock, timer, log, everyHours, fit: { currency: 'USD' } });

  it('fits at start when no fit exists, then every 24 hours, without real waiting', async () => {
    await appendSimulatedPurchases(store, { customers: 300, observationEnd: '2026-03-09', seed: 4 });
    const clock = movableClock('2026-03-10T08:00:00.000Z');
    const timer = manualTimer();
    const log = recordingLog();
    const s = scheduler(clock, timer, log);
    const first = await s.start();
    expect(first).toMatchObject({ kind: 'fitted', fittedAt: '2026-03-10T08:00:00.000Z', customers: 300 });
    const fitRows = await readModel.find('clv_fit', []);
    expect(fitRows).toHaveLength(1);
    expect(fitRows[0]).toMatchObject({
      fitted_at: '2026-03-10T08:00:00.000Z',
      observation_end: '2026-03-09',
    });
    expect(timer.pending.map((p) => p.ms)).toEqual([24 * H]);

    // A restart 2 hours later does not refit: it waits for the remaining 22 hours.
    await s.stop();
    expect(timer.pending).toHaveLength(0);
    clock.advance(2 * H);
    const restarted = scheduler(clock, timer, log);
    expect(await restarted.start()).toEqual({ kind: 'waiting', ms: 22 * H });
    expect(timer.pending.map((p) => p.ms)).toEqual([22 * H]);

    // The timer fires 22 hours later: a refit, the tables replaced whole.
    clock.advance(22 * H);
    timer.fire();
    await restarted.stop();
    const after = await readModel.find('clv_fit', []);
    expect(after.map((r) => r['fitted_at'])).toEqual(['2026-03-11T08:00:00.000Z']);
    expect(log.lines.filter((l) => l.message === 'CLV refitted')).toHaveLength(2);
  });

  it('a ledger that cannot support a fit is a warning, retried later, never a throw', async () => {
    await appendSimulatedPurchases(store, { customers: 5, observationEnd: '2026-03-09', seed: 5 });
    const timer = manualTimer();
    const log = recordingLog();
    const outcome = await scheduler(movableClock('2026-03-10T08:00:00.000Z'), timer, log).start();
    expect(outcome).toMatchObject({ kind: 'failed', error: { type: 'TooFewCustomers' } });
    expect(log.lines).toEqual([
      { level: 'warn', message: 'CLV refit skipped: the data cannot support a fit' },
    ]);
    expect(timer.pending.map((p) => p.ms)).toEqual([24 * H]);
    expect(await readModel.find('clv_fit', [])).toHaveLength(0);
  });

  it('an empty ledger waits without a warning; 0 hours schedules nothing', async () => {
    const timer = manualTimer();
    const log = recordingLog();
    const s = scheduler(movableClock('2026-03-10T08:00:00.000Z'), timer, log);
    expect(await s.start()).toEqual({
      kind: 'waiting',
      ms: 60_000,
    });
    expect(timer.pending.map((p) => p.ms)).toEqual([60_000]);
    expect(log.lines).toEqual([]);
    // Events arrive (a demo seeds after start): the next look fits.
    await appendSimulatedPurchases(store, { customers: 300, observationEnd: '2026-03-09', seed: 4 });
    timer.fire();
    await s.stop();
    expect(log.lines.map((l) => l.message)).toEqual(['CLV refitted']);
    const off = manualTimer();
    expect(await scheduler(movableClock('2026-03-10T08:00:00.000Z'), off, log, 0).start()).toEqual({
      kind: 'off',
    });
    expect(off.pending).toHaveLength(0);
  });
});
