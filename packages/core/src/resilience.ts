import { recordFrom } from '@crm-ledger/events';
/**
 * What keeps a long-running loop (projector, relay, shredder, notary, CLV refit) going through transient
 * failures: a classification of errors (transient or not), one retry loop with capped exponential backoff and
 * full jitter that never gives up on a transient error, and a status board the process shows on `/ready` and
 * `/status`. A bug or a permanent error (schema mismatch, bad configuration) is not retried: it stops the loop,
 * loudly, and the board shows the component failed.
 */

/** How a long-running component is doing. Times are ISO-8601. */
export type ComponentHealth =
  | { readonly state: 'running' }
  | {
      readonly state: 'retrying';
      /** When the current run of failures began. */
      readonly since: string;
      readonly attempts: number;
      readonly lastError: string;
      /** When the next attempt starts. */
      readonly nextAttemptAt: string;
    }
  | { readonly state: 'failed'; readonly at: string; readonly error: string };

/**
 * The health of every long-running component of a process, by name. Readiness: a failed component makes the
 * process not ready; a retrying one makes it degraded (still serving what it can).
 */
export class StatusBoard {
  private readonly entries = new Map<string, ComponentHealth>();

  set(name: string, health: ComponentHealth): void {
    this.entries.set(name, health);
  }

  get(name: string): ComponentHealth | undefined {
    return this.entries.get(name);
  }

  /** Forgets a component (it stopped on purpose). */
  remove(name: string): void {
    this.entries.delete(name);
  }

  all(): Readonly<Record<string, ComponentHealth>> {
    return recordFrom(this.entries);
  }

  /** One line per component that is not running: `projector: retrying since T (3 attempts), last error E`. */
  problems(): { readonly failed: readonly string[]; readonly retrying: readonly string[] } {
    const failed: string[] = [];
    const retrying: string[] = [];
    for (const [name, h] of this.entries) {
      if (h.state === 'failed') failed.push(`${name}: failed at ${h.at}: ${h.error}`);
      if (h.state === 'retrying')
        retrying.push(
          `${name}: retrying since ${h.since} (${h.attempts} attempts), last error: ${h.lastError}`,
        );
    }
    return { failed, retrying };
  }
}

const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'ENOTCONN',
  'EAI_AGAIN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);

/**
 * PostgreSQL SQLSTATEs worth retrying: connection exceptions (08), serialization failure and deadlock (40001,
 * 40P01), lock not available / lock_timeout (55P03), statement_timeout or cancel (57014), server shutting down
 * or starting (57P01-57P05), a read-only transaction after a failover (25006), idle-in-transaction timeout
 * (25P03), insufficient resources (53), too many connections (53300).
 */
function transientSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code.startsWith('53') ||
    code.startsWith('57P') ||
    ['40001', '40P01', '55P03', '57014', '25006', '25P03', '58000'].includes(code)
  );
}

const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /connection (was )?(closed|reset|refused|lost)/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /query read timeout/i,
  /lock session ended/i,
  /socket hang up/i,
  /database is locked/i,
];

/**
 * Whether an error is worth retrying: the network, the server restarting or failing over, a lock or busy
 * database, a timeout. Looks through `cause` chains and `AggregateError`s (Node's connect to several
 * addresses). KafkaJS and other clients that mark errors `retriable` are trusted. Everything else (a bug, a
 * schema mismatch, a constraint violation, bad configuration) is permanent.
 */
export function isTransientError(error: unknown, depth = 0): boolean {
  if (depth > 8 || typeof error !== 'object' || error === null) return false;
  const e = error as {
    code?: unknown;
    errno?: unknown;
    retriable?: unknown;
    name?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (e.retriable === true) return true;
  if (typeof e.code === 'string') {
    if (TRANSIENT_NODE_CODES.has(e.code) || e.code.startsWith('SQLITE_BUSY')) return true;
    if (/^[0-9A-Z]{5}$/.test(e.code) && transientSqlState(e.code)) return true;
  }
  if (
    typeof e.name === 'string' &&
    /^(KafkaJS(Connection|Request|Broker|Lock|Timeout|NumberOfRetries)|Unavailable|NotLeader|DeadlineExceeded)/.test(
      e.name,
    )
  )
    return true;
  if (typeof e.message === 'string' && TRANSIENT_MESSAGES.some((m) => m.test(e.message as string)))
    return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isTransientError(x, depth + 1))) return true;
  return isTransientError(e.cause, depth + 1);
}

export interface RetryOptions {
  /** The component's name on the status board and in logs. */
  readonly name: string;
  /** Stops retrying (and waiting) when aborted. */
  readonly signal: AbortSignal;
  readonly status?: StatusBoard;
  /** First delay (default 250 ms); it doubles per failed attempt up to `maxDelayMs` (default 15 s). */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Default {@link isTransientError}. */
  readonly isTransient?: (error: unknown) => boolean;
  /** Told about every transient failure before the wait (log it). */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Default `() => new Date()`. */
  readonly now?: () => Date;
  /** Default `Math.random`: full jitter, so a fleet does not retry in step. */
  readonly random?: () => number;
}

/** What a retried body gets: `healthy()` says it made progress (the backoff starts over, the board says running). */
export interface Attempt {
  readonly attempt: number;
  readonly healthy: () => void;
}

/** The delay before attempt `n + 1` after `n` failures: full jitter over a capped exponential. */
export function backoffDelay(
  failures: number,
  initialMs: number,
  maxMs: number,
  random: () => number,
): number {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });

/**
 * Runs `body` until it returns or `signal` aborts, retrying every transient failure forever with capped
 * exponential backoff and jitter; the status board shows "retrying since T, last error E" meanwhile. A
 * permanent error marks the component failed and is rethrown. Resolves `undefined` when aborted.
 */
export async function retryForever<T>(
  body: (attempt: Attempt) => Promise<T>,
  options: RetryOptions,
): Promise<T | undefined> {
  const initial = options.initialDelayMs ?? 250;
  const max = options.maxDelayMs ?? 15_000;
  const transient = options.isTransient ?? isTransientError;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  let failures = 0;
  let since: string | undefined;
  let attempt = 0;
  const healthy = (): void => {
    if (failures === 0 && options.status?.get(options.name)?.state === 'running') return;
    failures = 0;
    since = undefined;
    options.status?.set(options.name, { state: 'running' });
  };
  options.status?.set(options.name, { state: 'running' });
  while (!options.signal.aborted) {
    attempt++;
    try {
      return await body({ attempt, healthy });
    } catch (error) {
      if (options.signal.aborted) return undefined;
      if (!transient(error)) {
        options.status?.set(options.name, {
          state: 'failed',
          at: now().toISOString(),
          error: describeError(error),
        });
        throw error;
      }
      failures++;
      since ??= now().toISOString();
      const delay = backoffDelay(failures, initial, max, random);
      options.status?.set(options.name, {
        state: 'retrying',
        since,
        attempts: failures,
        lastError: describeError(error),
        nextAttemptAt: new Date(now().getTime() + delay).toISOString(),
      });
      options.onRetry?.(error, failures, delay);
      await sleep(delay, options.signal);
    }
  }
  return undefined;
}

/**
 * How every PostgreSQL connection of the ledger detects a dead peer and never waits forever (settings of
 * node-postgres, as plain data so each PostgreSQL adapter applies the same): TCP keepalives from the client
 * (first probe after 5 s idle) and from the server (5 s idle, 2 s apart, 3 probes), the server checking for a
 * gone client during long queries (5 s), a statement cut at 60 s, a row lock waited for at most 10 s, an open
 * transaction left idle ended after 10 s (a frozen holder's transaction never blocks the next holder longer),
 * a connection attempt given up after 10 s and a client-side query timeout (70 s) above the statement timeout.
 * docs/deploy.md derives the takeover bound from these.
 */
export const POSTGRES_CONNECTION_SETTINGS = {
  keepAlive: true,
  keepAliveInitialDelayMillis: 5_000,
  connectionTimeoutMillis: 10_000,
  statement_timeout: 60_000,
  lock_timeout: 10_000,
  idle_in_transaction_session_timeout: 10_000,
  query_timeout: 70_000,
  options:
    '-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 -c client_connection_check_interval=5000',
} as const;

/**
 * The session that holds a process's projection locks: idle between heartbeats, so the server ends it after
 * `idleSessionTimeoutMs` without one (a frozen process, a network gone), which frees the locks for a standby;
 * the holder sends a heartbeat every `heartbeatMs` and gives the locks up itself when one is not answered
 * within `heartbeatTimeoutMs`.
 */
export const PROJECTION_LOCK_SESSION = {
  heartbeatMs: 2_000,
  heartbeatTimeoutMs: 5_000,
  idleSessionTimeoutMs: 10_000,
} as const;
