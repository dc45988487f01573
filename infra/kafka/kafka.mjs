#!/usr/bin/env node
// A real single-node Apache Kafka 3.9.1 broker (KRaft, combined broker + controller) without Docker:
// jars from Maven Central through `mvn`, storage formatted with Kafka's StorageTool, `kafka.Kafka` run on 127.0.0.1.
// Used by the vitest globalSetup of packages/kafka (import { startKafka }) and by hand (see --help).
import { spawn, execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
export const KAFKA_VERSION = '3.9.1';
const CACHE_DIR = process.env.KAFKA_CACHE_DIR ?? path.join(HERE, '.cache');
const DEFAULT_RUN_DIR = path.join(HERE, '.run', 'default');
const READY_MARKER = 'Kafka Server started';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port on 127.0.0.1 (asked from the OS, then released: a small race we accept for tests). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves the broker's jars once into infra/kafka/.cache/jars-<version> (Maven's ~/.m2 caches the downloads too).
 * Resolution goes to a temporary directory renamed at the end, so two runs starting together never see half a cache.
 */
export async function ensureJars({ log = () => {} } = {}) {
  const pom = path.join(HERE, 'pom.xml');
  const pomHash = createHash('sha256').update(fs.readFileSync(pom)).digest('hex').slice(0, 16);
  const jarsDir = path.join(CACHE_DIR, `jars-${KAFKA_VERSION}-${pomHash}`);
  if (fs.existsSync(path.join(jarsDir, '.complete'))) return jarsDir;
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${jarsDir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  log(`resolving Kafka ${KAFKA_VERSION} jars with mvn into ${jarsDir} ...`);
  try {
    await execFileAsync(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        pom,
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${tmp}`,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `mvn could not resolve the Kafka jars (is Maven installed and Maven Central reachable?):\n${error.stdout ?? ''}${error.stderr ?? error.message}`,
    );
  }
  fs.writeFileSync(path.join(tmp, '.complete'), `${new Date().toISOString()}\n`);
  try {
    fs.renameSync(tmp, jarsDir);
  } catch (error) {
    // Another run won the race: its cache is as good as ours.
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(jarsDir, '.complete'))) throw error;
  }
  return jarsDir;
}

/**
 * Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding (what `StorageTool random-uuid`
 * prints). Like Kafka's own Uuid.randomUuid, never one starting with '-': StorageTool's argument parser would
 * read it as an option ("--cluster-id: expected one argument"), which failed one start in 64.
 */
export function clusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties({ port, controllerPort, dataDir, partitions }) {
  return `# Written by infra/kafka/kafka.mjs: a single combined broker + controller for tests and local use.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${dataDir}
num.partitions=${partitions}
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
`;
}

function log4jProperties() {
  return `# Written by infra/kafka/kafka.mjs: everything to stdout, which the launcher sends to broker.log.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.storage.internals.log=WARN
log4j.logger.kafka.log=WARN
log4j.logger.org.apache.kafka.clients=WARN
`;
}

function java(jarsDir, args, jvmOptions = []) {
  return ['-cp', `${jarsDir}/*`, ...jvmOptions, ...args];
}

export function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** kafkajs lives in packages/kafka (the only package that may depend on it); the launcher borrows it for its probe. */
function loadKafkaJs() {
  try {
    return createRequire(path.join(ROOT, 'packages/kafka/package.json'))('kafkajs');
  } catch {
    return undefined;
  }
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Ready = the broker answers a metadata request (kafkajs admin) or, without kafkajs, has logged its start and listens. */
async function probe(port, logFile) {
  const kafkajs = loadKafkaJs();
  if (kafkajs !== undefined) {
    const admin = new kafkajs.Kafka({
      clientId: 'crm-ledger-kafka-launcher',
      brokers: [`127.0.0.1:${port}`],
      logLevel: kafkajs.logLevel.NOTHING,
      connectionTimeout: 2000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 && cluster.controller !== null;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
  let logged = false;
  try {
    logged = fs.readFileSync(logFile, 'utf8').includes(READY_MARKER);
  } catch {
    logged = false;
  }
  return logged && (await tcpOpen(port));
}

/**
 * Starts a broker and resolves once it answers metadata requests.
 * @param {object} [options]
 * @param {number} [options.port] PLAINTEXT port on 127.0.0.1 (default: a free one)
 * @param {number} [options.controllerPort] KRaft controller port (default: a free one)
 * @param {string} [options.runDir] where the config, data and broker.log go (default: a new temporary directory)
 * @param {string} [options.heap] JVM max heap, default 512m
 * @param {number} [options.partitions] default partitions of new topics, default 1
 * @param {boolean} [options.detached] survive this process (for the CLI), default false
 * @param {number} [options.readyTimeoutMs] default 120000
 * @param {(line: string) => void} [options.log]
 * @returns {Promise<{ brokers: string, port: number, controllerPort: number, pid: number, runDir: string, logFile: string, jarsDir: string, stop: () => Promise<void> }>}
 */
export async function startKafka(options = {}) {
  const log = options.log ?? (() => {});
  const jarsDir = await ensureJars({ log });
  const port = options.port ?? (await freePort());
  const controllerPort = options.controllerPort ?? (await freePort());
  const runDir = options.runDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'crm-ledger-kafka-'));
  const ownsRunDir = options.runDir === undefined;
  const dataDir = path.join(runDir, 'data');
  const configFile = path.join(runDir, 'server.properties');
  const log4jFile = path.join(runDir, 'log4j.properties');
  const logFile = path.join(runDir, 'broker.log');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(
    configFile,
    serverProperties({ port, controllerPort, dataDir, partitions: options.partitions ?? 1 }),
  );
  fs.writeFileSync(log4jFile, log4jProperties());
  const log4jOption = `-Dlog4j.configuration=file:${log4jFile}`;

  const id = clusterId();
  try {
    await execFileAsync(
      'java',
      java(
        jarsDir,
        ['kafka.tools.StorageTool', 'format', '-t', id, '-c', configFile],
        [log4jOption, '-Xmx128m'],
      ),
    );
  } catch (error) {
    throw new Error(`StorageTool format failed:\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
  }

  const out = fs.openSync(logFile, 'a');
  const child = spawn(
    'java',
    java(
      jarsDir,
      ['kafka.Kafka', configFile],
      [
        `-Xmx${options.heap ?? '512m'}`,
        '-Xms128m',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-Djava.awt.headless=true',
        log4jOption,
        `-Dkafka.logs.dir=${runDir}`,
      ],
    ),
    { stdio: ['ignore', out, out], detached: options.detached ?? false },
  );
  fs.closeSync(out);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  if (options.detached) child.unref();
  const pid = child.pid;
  if (!options.detached) watchParent(pid);
  const state = {
    pid,
    port,
    controllerPort,
    brokers: `127.0.0.1:${port}`,
    runDir,
    logFile,
    clusterId: id,
    jarsDir,
  };
  fs.writeFileSync(path.join(runDir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);

  const stop = async () => {
    await stopPid(pid, { log });
    if (ownsRunDir) fs.rmSync(runDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (exited || !isAlive(pid)) {
      throw new Error(`the Kafka broker exited during start-up; last lines of ${logFile}:\n${tail(logFile)}`);
    }
    if (await probe(port, logFile)) break;
    if (Date.now() > deadline) {
      const lastLines = tail(logFile);
      await stopPid(pid, { log });
      throw new Error(`the Kafka broker was not ready in time; last lines of ${logFile}:\n${lastLines}`);
    }
    await sleep(500);
  }
  log(`Kafka ${KAFKA_VERSION} ready at 127.0.0.1:${port} (pid ${pid}, run dir ${runDir})`);
  return { ...state, stop };
}

/**
 * A broker started for a test run must not outlive it, even when the run is killed (SIGKILL skips the teardown):
 * a small detached watchdog kills the broker once this process is gone, and exits when the broker is.
 */
function watchParent(brokerPid) {
  const script = `const [parent, broker] = process.argv.slice(1).map(Number);
const alive = (p) => { try { process.kill(p, 0); return true; } catch { return false; } };
setInterval(() => {
  if (!alive(broker)) process.exit(0);
  if (!alive(parent)) { try { process.kill(broker, 'SIGKILL'); } catch {} process.exit(0); }
}, 1000);`;
  const watchdog = spawn(process.execPath, ['-e', script, String(process.pid), String(brokerPid)], {
    stdio: 'ignore',
    detached: true,
  });
  watchdog.unref();
}

/** SIGTERM (Kafka shuts down cleanly), wait up to `graceMs`, then SIGKILL. */
export async function stopPid(pid, { graceMs = 30_000, log = () => {} } = {}) {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) {
    log(`broker ${pid} still alive after ${graceMs} ms: SIGKILL`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    while (isAlive(pid)) await sleep(100);
  }
}

function readState(runDir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

const HELP = `Usage: node infra/kafka/kafka.mjs <command> [options]

A real single-node Apache Kafka ${KAFKA_VERSION} broker (KRaft) on 127.0.0.1, without Docker.
Jars are resolved once with mvn into infra/kafka/.cache/ (Java 17 and Maven needed).

Commands:
  start     format storage and start the broker in the background; prints the bootstrap address
  stop      stop it (SIGTERM, then SIGKILL after 30 s)
  status    say whether it runs and where
  jars      only resolve the jars; prints their directory (for java -cp '<dir>/*' ...)

Options:
  --port <n>             PLAINTEXT port (default: 9092 if free, else a free port)
  --controller-port <n>  KRaft controller port (default: a free port)
  --run-dir <dir>        config, data and broker.log (default: infra/kafka/.run/default; wiped at start)
  --heap <size>          JVM max heap (default: 512m)
  --partitions <n>       default partitions of new topics (default: 1)
  -h, --help             this help

Environment: KAFKA_CACHE_DIR overrides the jar cache directory.`;

function parseArgs(argv) {
  const args = { command: undefined, runDir: DEFAULT_RUN_DIR };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${a} needs a positive integer`);
      return v;
    };
    if (a === '-h' || a === '--help') args.help = true;
    else if (a === '--port') args.port = int();
    else if (a === '--controller-port') args.controllerPort = int();
    else if (a === '--run-dir') args.runDir = path.resolve(value());
    else if (a === '--heap') args.heap = value();
    else if (a === '--partitions') args.partitions = int();
    else if (args.command === undefined && !a.startsWith('-')) args.command = a;
    else throw new Error(`unknown argument: ${a}`);
  }
  return args;
}

async function main(argv) {
  let args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error(`${error.message}\n\n${HELP}`);
    return 2;
  }
  if (args.help || args.command === undefined) {
    console.log(HELP);
    return args.help ? 0 : 2;
  }
  const log = (line) => console.error(line);
  switch (args.command) {
    case 'jars': {
      console.log(await ensureJars({ log }));
      return 0;
    }
    case 'start': {
      const running = readState(args.runDir);
      if (running !== undefined && isAlive(running.pid)) {
        console.error(`already running (pid ${running.pid}) at ${running.brokers}`);
        console.log(running.brokers);
        return 0;
      }
      const port = args.port ?? ((await tcpOpen(9092)) ? await freePort() : 9092);
      fs.mkdirSync(args.runDir, { recursive: true });
      try {
        const kafka = await startKafka({ ...args, port, detached: true, log });
        console.log(kafka.brokers);
        return 0;
      } catch (error) {
        console.error(error.message);
        return 1;
      }
    }
    case 'stop': {
      const state = readState(args.runDir);
      if (state === undefined || !isAlive(state.pid)) {
        console.error('not running');
        return 0;
      }
      await stopPid(state.pid, { log });
      console.error(`stopped (pid ${state.pid})`);
      return 0;
    }
    case 'status': {
      const state = readState(args.runDir);
      if (state === undefined || !isAlive(state.pid)) {
        console.log('not running');
        return 3;
      }
      const open = await tcpOpen(state.port);
      console.log(
        `${open ? 'running' : 'starting or unhealthy'}: ${state.brokers} (pid ${state.pid}, log ${state.logFile})`,
      );
      return open ? 0 : 1;
    }
    default:
      console.error(`unknown command: ${args.command}\n\n${HELP}`);
      return 2;
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
