import pg from 'pg';
import { PROJECTION_LOCK_SESSION, type ProjectionLock } from '@crm-ledger/core';

/** The text the advisory lock key of a projection is hashed from (`hashtext`, a 32-bit key). */
export const projectionLockKey = (schema: string, projection: string): string =>
  `crm-ledger:${schema}:${projection}`;

/**
 * The projection locks of one read-model store: session-level advisory locks
 * (`pg_try_advisory_lock(hashtext('crm-ledger:<schema>:<projection>'))`) held on ONE dedicated connection,
 * opened on first use, outside the store's pool (a held lock never takes a pooled connection away from
 * queries). If that session dies (the process is killed, the network drops, the server restarts), PostgreSQL
 * releases every lock it held, so a standby in another process takes over; here, each lock's `lost` signal
 * aborts, so the holder stops running those projections, and the next `tryLock` opens a new session.
 *
 * A session whose peer is silently gone (the holder frozen, its network cut) would keep the locks until TCP
 * notices, hours by default. So the session runs with `idle_session_timeout` (`PROJECTION_LOCK_SESSION`): the
 * holder sends a heartbeat every 2 s, and the server ends a session that has not heard one for 10 s, which
 * frees its locks. The holder, too, treats a heartbeat unanswered within 5 s as the session lost: it stops the
 * projections before a standby can take them over.
 */
export class ProjectionLocks {
  private session: Promise<pg.Client> | undefined;
  private readonly held = new Map<string, AbortController>();

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly schema: string,
  ) {}

  async tryLock(projection: string): Promise<ProjectionLock | undefined> {
    if (this.held.has(projection)) return undefined; // one holder per process too
    const client = await this.connect();
    const key = projectionLockKey(this.schema, projection);
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
      [key],
    );
    if (rows[0]?.locked !== true) return undefined;
    const lost = new AbortController();
    this.held.set(projection, lost);
    return {
      projection,
      lost: lost.signal,
      release: async () => {
        if (this.held.get(projection) !== lost) return;
        this.held.delete(projection);
        if (lost.signal.aborted) return; // the session is gone, and the lock with it
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      },
    };
  }

  /** Releases every lock by closing the session. */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.held.clear();
    const client = session === undefined ? undefined : await session.catch(() => undefined);
    if (client === undefined) return;
    // end() waits for the server's goodbye, which a silent peer never sends: give it 2 s, then cut the socket.
    await Promise.race([
      client.end().catch(() => undefined),
      new Promise((r) => setTimeout(r, 2_000).unref()),
    ]);
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }

  private connect(): Promise<pg.Client> {
    if (this.session !== undefined) return this.session;
    const { heartbeatMs, heartbeatTimeoutMs, idleSessionTimeoutMs } = PROJECTION_LOCK_SESSION;
    const client = new pg.Client({
      ...this.connection,
      application_name: 'crm-ledger projection locks',
      options: `${this.connection.options ?? ''} -c idle_session_timeout=${idleSessionTimeoutMs}`.trim(),
      query_timeout: heartbeatTimeoutMs,
    });
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    const dead = (): void => {
      if (heartbeat !== undefined) clearInterval(heartbeat);
      heartbeat = undefined;
      if (this.session !== opened) return;
      this.session = undefined;
      for (const lost of this.held.values()) lost.abort(new Error('the projection lock session ended'));
      this.held.clear();
      // A silent peer never ends the socket by itself: destroy it, so nothing waits on it.
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    };
    client.on('error', dead);
    client.on('end', dead);
    const opened = client.connect().then(
      () => {
        heartbeat = setInterval(() => {
          client.query('SELECT 1').catch(dead);
        }, heartbeatMs);
        heartbeat.unref();
        return client;
      },
      (error: unknown) => {
        if (this.session === opened) this.session = undefined;
        (
          client as unknown as { connection?: { stream?: { destroy(): void } } }
        ).connection?.stream?.destroy();
        throw error;
      },
    );
    this.session = opened;
    return opened;
  }
}
