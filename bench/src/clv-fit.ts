/**
 * CLV fit benchmark:
 * 1. the full CDNOW_master.txt (69,659 purchases, 23,570 customers): imported line by line with the CDNOW
 *    preset into a fresh SQLite event store, folded back from the store into purchase days, summarised at the
 *    end of the 39-week calibration period (1997-09-30) and fitted (BG/NBD + Gamma-Gamma); each phase timed;
 * 2. synthetic customers drawn from the BG/NBD process with known parameters (default 1,000,000, CDNOW's
 *    published parameters, ages spread over 27-39 weeks like the CDNOW cohort): the fit is timed and the
 *    recovered parameters are compared with the ones that drew the data.
 * Simulation is not timed. Run it niced: `nice -n 10 node bench/dist/clv-fit.js`.
 */
import { createReadStream, existsSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { execFile } from 'node:child_process';
import * as E from 'fp-ts/lib/Either.js';
import { fitBgNbd, simulateBgNbd, type BgNbdParams } from '@crm-ledger/clv';
import { fitClvModels, tallyPurchases } from '@crm-ledger/clv-ledger';
import { systemClock } from '@crm-ledger/core';
import { customerStream, type RawEnvelope } from '@crm-ledger/events';
import { cdnowMaster, createPurchaseCsvParser, parseSource } from '@crm-ledger/importers';
import { openSqliteEventStore } from '@crm-ledger/sqlite';
import { tempDir, track } from './lib/cleanup.js';

const HELP = `Usage: node bench/dist/clv-fit.js [options]

Times the BG/NBD + Gamma-Gamma fit on the full CDNOW master file (through a SQLite event store) and the
BG/NBD fit on synthetic customers drawn from the model with known parameters.

Options:
  --customers <n>   synthetic customers (default 1000000; 0 skips the synthetic run)
  --seed <n>        simulation seed (default 42)
  --cdnow <dir>     directory holding CDNOW_master.txt (default: ../shared/data/cdnow or /work/shared/data/cdnow)
  --skip-master     skip the CDNOW master run
  --out <file>      write the results as JSON there (default: print only)
  --smoke           a smoke run: 2,000 synthetic customers, the master file if it is there (CI)
  --help            show this help
`;

const CALIBRATION = { observationEnd: '1997-09-30', daysPerUnit: 7, currency: 'USD', minorPerMajor: 100 };
const TRUE_PARAMS: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

const now = (): bigint => process.hrtime.bigint();
const secondsSince = (t0: bigint): number => Math.round(Number(now() - t0) / 1e6) / 1e3;
const round = (v: number, digits = 4): number => Number(v.toPrecision(digits));
const roundAll = (o: object): Record<string, number> =>
  Object.fromEntries(Object.entries(o as Record<string, number>).map(([k, v]) => [k, round(v)]));
const rssMiB = (): number => Math.round(process.memoryUsage().rss / 1048576);

async function master(dir: string): Promise<Record<string, unknown>> {
  const work = tempDir('clv-bench-');
  const store = openSqliteEventStore({ file: path.join(work, 'ledger.db'), synchronous: 'normal' });
  try {
    const parser = createPurchaseCsvParser(cdnowMaster);
    if (E.isLeft(parser)) throw new Error('CDNOW master preset rejected');
    const t0 = now();
    const byCustomer = new Map<string, RawEnvelope[]>();
    for await (const line of parseSource(
      createReadStream(path.join(dir, 'CDNOW_master.txt')),
      parser.right,
    )) {
      if (line.kind === 'error') throw new Error(`line ${line.lineNumber}: ${line.message}`);
      if (line.kind !== 'event') continue;
      const list = byCustomer.get(line.event.customerId) ?? [];
      list.push(line.event);
      byCustomer.set(line.event.customerId, list);
    }
    const parseSeconds = secondsSince(t0);
    const t1 = now();
    let events = 0;
    for (const [customerId, list] of byCustomer) {
      const r = await store.append(customerStream(customerId), list, { expectedRevision: 'no_stream' });
      if (E.isLeft(r)) throw new Error(`append ${customerId}: ${JSON.stringify(r.left)}`);
      events += list.length;
    }
    const appendSeconds = secondsSince(t1);
    const t2 = now();
    const tally = await tallyPurchases(store, CALIBRATION);
    if (E.isLeft(tally)) throw new Error(JSON.stringify(tally.left));
    const foldSeconds = secondsSince(t2);
    const t3 = now();
    const cpu0 = process.cpuUsage();
    const fit = fitClvModels(tally.right, CALIBRATION, systemClock.now());
    if (E.isLeft(fit)) throw new Error(JSON.stringify(fit.left));
    const fitSeconds = secondsSince(t3);
    const cpu = process.cpuUsage(cpu0);
    const fitCpuSeconds = Math.round((cpu.user + cpu.system) / 1e3) / 1e3;
    const { record } = fit.right;
    // The BG/NBD fit alone, on the summaries, for the per-model time.
    const t4 = now();
    const bgOnly = fitBgNbd([...fit.right.summaries.values()]);
    const bgSeconds = secondsSince(t4);
    return {
      events,
      customers: record.bgNbd.customers,
      repeatBuyers: record.bgNbd.repeatBuyers,
      seconds: {
        parse: parseSeconds,
        append: appendSeconds,
        foldFromStore: foldSeconds,
        fitBoth: fitSeconds,
        fitBothCpu: fitCpuSeconds,
        fitBgNbdOnly: bgSeconds,
      },
      bgNbdEvaluations: E.isRight(bgOnly) ? bgOnly.right.evaluations : null,
      bgNbd: roundAll(record.bgNbd.params),
      logLikelihood: round(record.bgNbd.logLikelihood, 8),
      gammaGamma: roundAll(record.gammaGamma.params),
      peakRssMiB: rssMiB(),
    };
  } finally {
    await store.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const SCIPY = path.resolve(import.meta.dirname, '../scipy/bgnbd.py');

/**
 * The external reference: the same rows fitted by numpy + scipy alone (bench/scipy/bgnbd.py, Nelder-Mead on
 * the BG/NBD log-likelihood), in a child process (tracked: stopped with the bench). Null, with a message, where
 * python3 with scipy is missing.
 */
async function scipyFit(
  rows: readonly { frequency: number; recency: number; T: number }[],
): Promise<Record<string, number | string> | null> {
  const dir = tempDir('clv-bench-scipy-');
  const csv = path.join(dir, 'rows.csv');
  writeFileSync(csv, rows.map((r) => `${r.frequency},${r.recency},${r.T}\n`).join(''));
  try {
    const run = promisify(execFile)('python3', [SCIPY, csv], { encoding: 'utf8', maxBuffer: 1 << 20 });
    track(run.child);
    const { stdout } = await run;
    return JSON.parse(stdout) as Record<string, number | string>;
  } catch (error) {
    process.stdout.write(
      `scipy reference skipped (python3 with numpy and scipy needed): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`,
    );
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function synthetic(customers: number, seed: number): Promise<Record<string, unknown>> {
  const t0 = now();
  const rows = simulateBgNbd(TRUE_PARAMS, customers, (_, u) => 27 + 12 * u(), seed);
  const simulateSeconds = secondsSince(t0);
  const t1 = now();
  const cpu0 = process.cpuUsage();
  const fit = fitBgNbd(rows);
  const fitSeconds = secondsSince(t1);
  const cpu = process.cpuUsage(cpu0);
  const fitCpuSeconds = Math.round((cpu.user + cpu.system) / 1e3) / 1e3;
  if (E.isLeft(fit)) throw new Error(JSON.stringify(fit.left));
  const p = fit.right.params;
  const error = (k: keyof BgNbdParams) => round(Math.abs(p[k] / TRUE_PARAMS[k] - 1), 2);
  return {
    customers,
    repeatBuyers: fit.right.repeatBuyers,
    seconds: { simulate: simulateSeconds, fitBgNbd: fitSeconds, fitBgNbdCpu: fitCpuSeconds },
    evaluations: fit.right.evaluations,
    msPerEvaluation: round((fitSeconds * 1000) / fit.right.evaluations, 3),
    truth: TRUE_PARAMS,
    fitted: roundAll(p),
    relativeError: { r: error('r'), alpha: error('alpha'), a: error('a'), b: error('b') },
    peakRssMiB: rssMiB(),
    scipyReference: await (async () => {
      const s = await scipyFit(rows);
      if (s === null) return null;
      const diff = (k: keyof BgNbdParams) => round(Math.abs(p[k] / Number(s[k]) - 1), 2);
      return {
        ...s,
        what: 'numpy + scipy Nelder-Mead on the BG/NBD log-likelihood, the same rows (bench/scipy/bgnbd.py)',
        relativeDifference: { r: diff('r'), alpha: diff('alpha'), a: diff('a'), b: diff('b') },
        fitSecondsOverScipy: round(fitSeconds / Number(s.seconds), 2),
      };
    })(),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '42' },
      cdnow: { type: 'string' },
      'skip-master': { type: 'boolean', default: false },
      out: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.smoke) values.customers = '2000';
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const customers = Number(values.customers);
  const seed = Number(values.seed);
  if (!Number.isInteger(customers) || customers < 0) throw new Error('--customers must be an integer >= 0');
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  const dir = [
    values.cdnow,
    path.resolve(import.meta.dirname, '../../../shared/data/cdnow'),
    '/work/shared/data/cdnow',
  ].find((d): d is string => d !== undefined && existsSync(path.join(d, 'CDNOW_master.txt')));

  const report: Record<string, unknown> = {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
  };
  if (!values['skip-master']) {
    if (dir === undefined && values.smoke)
      process.stdout.write('CDNOW_master.txt not found: the master run is skipped in this smoke run\n');
    else if (dir === undefined) throw new Error('CDNOW_master.txt not found: pass --cdnow <dir>');
    else {
      report.cdnowMaster = await master(dir);
      process.stdout.write(`CDNOW master: ${JSON.stringify(report.cdnowMaster)}\n`);
    }
  }
  if (customers > 0) {
    report.synthetic = await synthetic(customers, seed);
    report.loadAverage = loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
    process.stdout.write(`synthetic: ${JSON.stringify(report.synthetic)}\n`);
  }
  if (values.out !== undefined) {
    writeFileSync(values.out, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`results written to ${values.out}\n`);
  }
}

await main();
