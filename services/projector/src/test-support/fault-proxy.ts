import net from 'node:net';

/**
 * What the network between a process and a server does:
 * - `pass`: forwards both ways;
 * - `refuse`: nobody listens (new connections get ECONNREFUSED); open connections stay as they are;
 * - `stall`: open and new connections stop moving data (kept, delivered when the network passes again), as
 *   when a peer freezes or a link pauses;
 * - `blackhole`: the network is gone: data is dropped both ways, nothing is answered, no connection is
 *   closed; a connection whose server side closed meanwhile is reset when the network passes again (the
 *   peer then learns what happened while it was cut off).
 */
export type FaultMode = 'pass' | 'refuse' | 'stall' | 'blackhole';

interface Pair {
  readonly client: net.Socket;
  upstream: net.Socket | undefined;
  /** Data waiting while stalled, by direction. */
  readonly toServer: Buffer[];
  readonly toClient: Buffer[];
  /** The server side closed while the network was cut: reset the client when it passes again. */
  serverGone: boolean;
  /** The client side closed while the network was cut: the server learns it when it passes again. */
  clientGone: boolean;
}

/**
 * A fault-injecting TCP proxy for tests (node:net): put it between a process and PostgreSQL (or a Kafka broker)
 * and switch its mode to refuse, reset, stall or blackhole the connections, as a network or a server would.
 */
export class FaultProxy {
  private mode: FaultMode = 'pass';
  private readonly pairs = new Set<Pair>();
  private server: net.Server | undefined;
  /** Connections accepted so far (each opens one to the target). */
  accepted = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
  ) {}

  /** Listens on 127.0.0.1 (a free port unless given) and forwards to `target`. */
  static async start(target: { host: string; port: number }, port = 0): Promise<FaultProxy> {
    const probe = net.createServer();
    const chosen = await new Promise<number>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => resolve((probe.address() as net.AddressInfo).port));
    });
    await new Promise<void>((r) => probe.close(() => r()));
    const proxy = new FaultProxy(target, chosen);
    await proxy.listen();
    return proxy;
  }

  get current(): FaultMode {
    return this.mode;
  }

  /** Forwards again: stalled data moves on, connections the server closed while cut off are reset. */
  async pass(): Promise<void> {
    this.mode = 'pass';
    await this.listen();
    for (const p of this.pairs) {
      if (p.serverGone) {
        p.client.resetAndDestroy();
        this.pairs.delete(p);
        continue;
      }
      if (p.clientGone) {
        p.upstream?.destroy();
        this.pairs.delete(p);
        continue;
      }
      for (const b of p.toServer.splice(0)) p.upstream?.write(b);
      for (const b of p.toClient.splice(0)) p.client.write(b);
    }
  }

  /** Stops listening: new connections are refused (ECONNREFUSED); open ones are left as they are. */
  async refuse(): Promise<void> {
    this.mode = 'refuse';
    await this.unlisten();
  }

  stall(): void {
    this.mode = 'stall';
  }

  blackhole(): void {
    this.mode = 'blackhole';
    for (const p of this.pairs) {
      p.toServer.length = 0;
      p.toClient.length = 0;
    }
  }

  /** Resets (TCP RST) every open connection on both sides, as a server crash or a middlebox would. */
  reset(): void {
    for (const p of this.pairs) {
      p.client.resetAndDestroy();
      p.upstream?.resetAndDestroy();
    }
    this.pairs.clear();
  }

  /** Local ports of the connections to the target: `pg_stat_activity.client_port` of the proxied sessions. */
  upstreamPorts(): number[] {
    const out: number[] = [];
    for (const p of this.pairs) if (p.upstream?.localPort !== undefined) out.push(p.upstream.localPort);
    return out;
  }

  /** Open connections. */
  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.reset();
    await this.unlisten();
  }

  private async listen(): Promise<void> {
    if (this.server !== undefined) return;
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  private async unlisten(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    const pair: Pair = {
      client,
      upstream: undefined,
      toServer: [],
      toClient: [],
      serverGone: false,
      clientGone: false,
    };
    this.pairs.add(pair);
    const drop = (): void => {
      if ((this.mode === 'blackhole' || this.mode === 'stall') && !pair.serverGone) {
        // The client gave up while the network is cut: its goodbye does not reach the server.
        pair.clientGone = true;
        client.destroy();
        return;
      }
      this.pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on('error', drop);
    client.on('close', drop);
    client.on('data', (b: Buffer) => {
      if (this.mode === 'blackhole') return;
      if (this.mode === 'stall' || pair.upstream === undefined || pair.upstream.connecting)
        pair.toServer.push(b);
      else pair.upstream.write(b);
    });
    const connect = (): void => {
      const upstream = net.connect(this.target.port, this.target.host);
      pair.upstream = upstream;
      upstream.setNoDelay(true);
      upstream.on('connect', () => {
        if (this.mode === 'pass') for (const b of pair.toServer.splice(0)) upstream.write(b);
      });
      upstream.on('data', (b: Buffer) => {
        if (this.mode === 'blackhole') return;
        if (this.mode === 'stall') pair.toClient.push(b);
        else client.write(b);
      });
      const gone = (): void => {
        if (this.mode === 'blackhole' || this.mode === 'stall') {
          pair.serverGone = true; // told to the client when the network passes again
          return;
        }
        drop();
      };
      upstream.on('error', gone);
      upstream.on('close', gone);
    };
    // A connection opened while the network is gone or stalled reaches the server only once it passes.
    if (this.mode === 'pass') connect();
    else {
      const later = setInterval(() => {
        if (client.destroyed) clearInterval(later);
        else if (this.mode === 'pass') {
          clearInterval(later);
          connect();
        }
      }, 50);
      later.unref();
    }
  }
}
