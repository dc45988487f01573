import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import gossipGrpc from '@eventstore/db-client/generated/gossip_grpc_pb.js';
import gossipPb from '@eventstore/db-client/generated/gossip_pb.js';
import featuresGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import featuresPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import statusPb from '@eventstore/db-client/generated/status_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import anyPb from 'google-protobuf/google/protobuf/any_pb.js';
import emptyPb from 'google-protobuf/google/protobuf/empty_pb.js';

/**
 * TEST SUPPORT ONLY: a small gRPC server speaking EventStoreDB's client protocol, built from the generated
 * protocol code shipped inside `@eventstore/db-client` (its `generated/*_pb.js`), so that the *real* client
 * runs against it. It exists to inject the failures a real cluster produces (dropped connections, stalls,
 * "not leader", a follower that lags, foreign records, tombstones, caught-up markers out of place) and to
 * count what the adapter asks for. It is not EventStoreDB: it is no stand-in for the conformance suite,
 * which runs against a real server whenever EVENTSTORE_CONNECTION_STRING is set.
 *
 * Semantics kept just close enough for the adapter: one in-memory log ($all), per-stream revisions,
 * `commit === prepare` positions (never 0), expected-revision checks, idempotency by event id ignored
 * (the adapter decides duplicates itself), server-side stream-prefix filter on subscriptions.
 */
export interface FakeRecord {
  readonly streamId: string;
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  readonly revision: number;
  readonly position: number;
  readonly created: Date;
}

/** What a call carried, for assertions (e.g. that reads ask for the leader). */
export interface CallRecord {
  readonly method: 'read' | 'append' | 'batchAppend' | 'gossip' | 'features';
  readonly kind?: 'stream' | 'all' | 'subscription';
  readonly stream?: string;
  readonly direction?: 'forwards' | 'backwards';
  readonly count?: number;
  readonly requiresLeader: boolean;
  /** Milliseconds until the client's deadline (undefined: none or Infinity). */
  readonly deadlineMs?: number;
}

export interface Faults {
  /** Answer every call with "not leader" pointing there (what a follower does with requires-leader). */
  notLeader?: { host: string; port: number } | undefined;
  /** Only calls that carry requires-leader get "not leader" (a follower); others are served from `log`. */
  follower?: { leader: FaultServer } | undefined;
  /** Reads (not subscriptions) never answer: the client's deadline is all that ends them. */
  stallReads?: boolean;
  /** Appends are held (no answer) until `releaseAppends()`. */
  holdAppends?: boolean;
  /**
   * The next append (either RPC) is written, then its call is broken with UNAVAILABLE before the answer (a
   * failover mid-flight): a batch-append stream is broken as a whole.
   */
  breakAppendAfterWrite?: boolean;
  /** Appends fail with this error (a refusal by the server). */
  appendError?: 'maximum-append-size-exceeded' | 'invalid-argument' | undefined;
  /** Subscriptions: send CaughtUp after this many (filtered) events instead of at the end of the log. */
  caughtUpAfter?: number | undefined;
  /** Gossip never answers (discovery then waits for the client's gossip timeout). */
  stallGossip?: boolean;
  /** Subscriptions: a checkpoint right before CaughtUp (as some server versions send). */
  checkpointBeforeCaughtUp?: boolean;
  /** Subscriptions are broken with UNAVAILABLE after sending this many events (once per subscription). */
  breakSubscriptionAfter?: number | undefined;
  /** Every WrongExpectedVersion/append first loses this many races: another writer slips an event in. */
  racingWriter?: number;
}

const EXPECTED_ANY = -1;
const EXPECTED_NO_STREAM = -2;
const EXPECTED_EXISTS = -3;

export class FaultServer {
  readonly log: FakeRecord[] = [];
  readonly calls: CallRecord[] = [];
  readonly faults: Faults = {};
  readonly tombstoned = new Set<string>();
  /** Open subscription calls: `dropSubscriptions()` breaks them. */
  private readonly subscriptions = new Set<{
    call: grpc.ServerWritableStream<unknown, unknown>;
    push: () => void;
  }>();
  private readonly held: (() => void)[] = [];
  private server: grpc.Server | undefined;
  private nextPosition = 1_000;
  /** Whether the server advertises BatchAppend (the 6.2.1 client then uses it for every append). */
  batchAppend = true;

  private constructor(public port: number) {}

  static async start(options: { port?: number; batchAppend?: boolean } = {}): Promise<FaultServer> {
    const s = new FaultServer(options.port ?? 0);
    if (options.batchAppend !== undefined) s.batchAppend = options.batchAppend;
    await s.listen();
    return s;
  }

  /** A single-node connection string for the real client. */
  get connectionString(): string {
    return `esdb://127.0.0.1:${this.port}?tls=false`;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  private async listen(): Promise<void> {
    const server = new grpc.Server();
    server.addService(streamsGrpc.StreamsService, {
      read: (call: grpc.ServerWritableStream<streamsPb.ReadReq, streamsPb.ReadResp>) => this.onRead(call),
      append: (
        call: grpc.ServerReadableStream<streamsPb.AppendReq, streamsPb.AppendResp>,
        cb: grpc.sendUnaryData<streamsPb.AppendResp>,
      ) => this.onAppend(call, cb),
      batchAppend: (call: grpc.ServerDuplexStream<streamsPb.BatchAppendReq, streamsPb.BatchAppendResp>) =>
        this.onBatchAppend(call),
      delete: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(unimplemented()),
      tombstone: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(unimplemented()),
    });
    server.addService(gossipGrpc.GossipService, {
      read: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<gossipPb.ClusterInfo>) =>
        this.onGossip(call, cb),
    });
    server.addService(featuresGrpc.ServerFeaturesService, {
      getSupportedMethods: (
        call: grpc.ServerUnaryCall<unknown, unknown>,
        cb: grpc.sendUnaryData<featuresPb.SupportedMethods>,
      ) => this.onFeatures(call, cb),
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${this.port}`, grpc.ServerCredentials.createInsecure(), (e, port) =>
        e ? reject(e) : resolve(port),
      ),
    );
    this.server = server;
  }

  /** Listens again on the same port after `stop()` (the node comes back). */
  async startAgain(): Promise<void> {
    if (this.server === undefined) await this.listen();
  }

  /** Kills every connection and call at once (a node crash), and stays down. */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
    this.subscriptions.clear();
  }

  /** A node restart: every connection and call is dropped, then the node listens again on the same port. */
  async restart(): Promise<void> {
    this.stop();
    await this.listen();
  }

  /** Breaks every open subscription with UNAVAILABLE (the connection stays). */
  dropSubscriptions(): void {
    for (const s of this.subscriptions)
      s.call.emit('error', unavailable('subscription dropped by the fault server'));
    this.subscriptions.clear();
  }

  releaseAppends(): void {
    for (const h of this.held.splice(0)) h();
  }

  /** Appends a record directly (what another application, the UI or a projection would write). */
  write(
    streamId: string,
    event: { type: string; data: unknown; metadata?: unknown; id?: string; contentType?: string },
  ): FakeRecord {
    const revision = this.log.filter((r) => r.streamId === streamId).length;
    const json = (v: unknown) =>
      new Uint8Array(Buffer.from(v === undefined ? '' : JSON.stringify(v), 'utf8'));
    const record: FakeRecord = {
      streamId,
      id: event.id ?? randomUUID(),
      type: event.type,
      contentType: event.contentType ?? 'application/json',
      data: event.data instanceof Uint8Array ? event.data : json(event.data),
      metadata: json(event.metadata),
      revision,
      position: this.nextPosition,
      created: new Date(),
    };
    this.nextPosition += 100;
    this.log.push(record);
    for (const s of this.subscriptions) s.push();
    return record;
  }

  /** A hard delete: EventStoreDB writes a `$streamDeleted` record at revision 2^63-1 and refuses the stream. */
  tombstone(streamId: string): void {
    this.tombstoned.add(streamId);
    this.write(streamId, { type: '$streamDeleted', data: {} });
  }

  private refuse(
    call:
      | grpc.ServerUnaryCall<unknown, unknown>
      | grpc.ServerWritableStream<unknown, unknown>
      | grpc.ServerReadableStream<unknown, unknown>
      | grpc.ServerDuplexStream<unknown, unknown>,
  ): grpc.ServiceError | undefined {
    const requiresLeader = call.metadata.get('requires-leader')[0] === 'true';
    const leader =
      this.faults.notLeader ??
      (this.faults.follower !== undefined && requiresLeader
        ? { host: '127.0.0.1', port: this.faults.follower.leader.port }
        : undefined);
    if (leader === undefined) return undefined;
    const md = new grpc.Metadata();
    md.set('exception', 'not-leader');
    md.set('leader-endpoint-host', leader.host);
    md.set('leader-endpoint-port', String(leader.port));
    return Object.assign(new Error('Leader info available'), {
      code: grpc.status.NOT_FOUND,
      details: 'Leader info available',
      metadata: md,
    });
  }

  private onGossip(
    call: grpc.ServerUnaryCall<unknown, unknown>,
    cb: grpc.sendUnaryData<gossipPb.ClusterInfo>,
  ): void {
    this.calls.push({ method: 'gossip', requiresLeader: false });
    if (this.faults.stallGossip === true) return;
    const info = new gossipPb.ClusterInfo();
    const member = new gossipPb.MemberInfo();
    const ep = new gossipPb.EndPoint();
    ep.setAddress('127.0.0.1');
    ep.setPort(this.port);
    const id = new sharedPb.UUID();
    id.setString(randomUUID());
    member.setInstanceId(id);
    member.setTimeStamp(String(Date.now()));
    member.setState(
      this.faults.follower !== undefined
        ? gossipPb.MemberInfo.VNodeState.FOLLOWER
        : gossipPb.MemberInfo.VNodeState.LEADER,
    );
    member.setIsAlive(true);
    member.setHttpEndPoint(ep);
    info.setMembersList([member]);
    void call;
    cb(null, info);
  }

  private onFeatures(
    call: grpc.ServerUnaryCall<unknown, unknown>,
    cb: grpc.sendUnaryData<featuresPb.SupportedMethods>,
  ): void {
    this.calls.push({ method: 'features', requiresLeader: false });
    void call;
    const out = new featuresPb.SupportedMethods();
    out.setEventStoreServerVersion('23.10.0');
    const methods: [string, string][] = [
      ['event_store.client.streams.streams', 'read'],
      ['event_store.client.streams.streams', 'append'],
    ];
    if (this.batchAppend) methods.push(['event_store.client.streams.streams', 'batchappend']);
    out.setMethodsList(
      methods.map(([service, method]) => {
        const m = new featuresPb.SupportedMethod();
        m.setServiceName(service);
        m.setMethodName(method);
        return m;
      }),
    );
    cb(null, out);
  }

  private onRead(call: grpc.ServerWritableStream<streamsPb.ReadReq, streamsPb.ReadResp>): void {
    const options = call.request.getOptions()!;
    const requiresLeader = call.metadata.get('requires-leader')[0] === 'true';
    const deadline = call.getDeadline();
    const deadlineMs =
      deadline instanceof Date && Number.isFinite(deadline.getTime())
        ? deadline.getTime() - Date.now()
        : undefined;
    const backwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
    const count = options.hasCount() ? Number(options.getCount()) : undefined;
    const subscription = options.hasSubscription();
    const stream = options.hasStream()
      ? Buffer.from(options.getStream()!.getStreamIdentifier()!.getStreamName_asU8()).toString('utf8')
      : undefined;
    this.calls.push({
      method: 'read',
      kind: subscription ? 'subscription' : stream !== undefined ? 'stream' : 'all',
      ...(stream === undefined ? {} : { stream }),
      direction: backwards ? 'backwards' : 'forwards',
      ...(count === undefined ? {} : { count }),
      requiresLeader,
      ...(deadlineMs === undefined || deadlineMs > 1e12 ? {} : { deadlineMs }),
    });
    const refused = this.refuse(call);
    if (refused !== undefined) {
      call.emit('error', refused);
      return;
    }
    if (subscription) return this.subscribe(call, options);
    if (this.faults.stallReads === true) return; // never answers
    // A follower serves reads from its own (lagging) log; requires-leader calls were refused above.
    const source = { log: this.log };
    if (stream !== undefined) {
      if (this.tombstoned.has(stream)) {
        call.emit('error', streamDeleted(stream));
        return;
      }
      const records = source.log.filter((r) => r.streamId === stream);
      if (records.length === 0) {
        const nf = new streamsPb.ReadResp.StreamNotFound();
        nf.setStreamIdentifier(identifier(stream));
        call.write(new streamsPb.ReadResp().setStreamNotFound(nf));
        call.end();
        return;
      }
      const so = options.getStream()!;
      let picked: FakeRecord[];
      if (backwards) {
        const from = so.hasEnd() ? Number.MAX_SAFE_INTEGER : Number(so.getRevision());
        picked = records.filter((r) => r.revision <= from).reverse();
      } else {
        const from = so.hasStart() ? 0 : Number(so.getRevision());
        picked = records.filter((r) => r.revision >= from);
      }
      for (const r of picked.slice(0, count ?? picked.length)) call.write(eventResp(r));
      call.end();
      return;
    }
    const all = options.getAll()!;
    let picked: FakeRecord[];
    if (backwards) {
      const from = all.hasEnd() ? Number.MAX_SAFE_INTEGER : Number(all.getPosition()!.getCommitPosition());
      picked = source.log.filter((r) => r.position < from).reverse();
    } else {
      const from = all.hasStart() ? 0 : Number(all.getPosition()!.getCommitPosition());
      picked = source.log.filter((r) => r.position >= from);
    }
    for (const r of picked.slice(0, count ?? picked.length)) call.write(eventResp(r));
    call.end();
  }

  private subscribe(
    call: grpc.ServerWritableStream<streamsPb.ReadReq, streamsPb.ReadResp>,
    options: streamsPb.ReadReq.Options,
  ): void {
    const all = options.getAll()!;
    let after = all.hasStart()
      ? 0
      : all.hasEnd()
        ? this.nextPosition
        : Number(all.getPosition()!.getCommitPosition());
    const prefixes = options.hasFilter()
      ? options.getFilter()!.getStreamIdentifier()?.getPrefixList()
      : undefined;
    const matches = (r: FakeRecord) =>
      prefixes === undefined || prefixes.some((p) => r.streamId.startsWith(p));
    // Like the server: a checkpoint every 32 × multiplier events scanned by the filter, and one at the end
    // of the catch-up phase, just before CaughtUp.
    const checkpointEvery = options.hasFilter()
      ? 32 * Math.max(1, options.getFilter()!.getCheckpointintervalmultiplier())
      : undefined;
    let scanned = 0;
    const checkpoint = (position: number) => {
      if (checkpointEvery === undefined) return;
      const c = new streamsPb.ReadResp.Checkpoint();
      c.setCommitPosition(String(position));
      c.setPreparePosition(String(position));
      call.write(new streamsPb.ReadResp().setCheckpoint(c));
    };
    const sendCaughtUp = () => {
      if (this.faults.checkpointBeforeCaughtUp === true) checkpoint(after);
      call.write(new streamsPb.ReadResp().setCaughtUp(new streamsPb.ReadResp.CaughtUp()));
    };
    const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation();
    confirmation.setSubscriptionId(randomUUID());
    call.write(new streamsPb.ReadResp().setConfirmation(confirmation));
    let sent = 0;
    let caughtUp = false;
    const breakAfter = this.faults.breakSubscriptionAfter;
    const caughtUpAfter = this.faults.caughtUpAfter;
    const entry = {
      call: call as grpc.ServerWritableStream<unknown, unknown>,
      push: () => {
        if (call.writableEnded || call.cancelled) return;
        for (const r of this.log) {
          if (r.position <= after) continue;
          after = r.position;
          scanned += 1;
          if (checkpointEvery !== undefined && scanned % checkpointEvery === 0) checkpoint(r.position);
          if (!matches(r)) continue;
          if (!caughtUp && caughtUpAfter !== undefined && sent === caughtUpAfter) {
            caughtUp = true;
            sendCaughtUp();
          }
          call.write(eventResp(r));
          sent += 1;
          if (breakAfter !== undefined && sent >= breakAfter) {
            this.faults.breakSubscriptionAfter = undefined;
            this.subscriptions.delete(entry);
            call.emit('error', unavailable('subscription broken by the fault server'));
            return;
          }
        }
        if (!caughtUp) {
          caughtUp = true;
          sendCaughtUp();
        }
      },
    };
    this.subscriptions.add(entry);
    call.on('cancelled', () => this.subscriptions.delete(entry));
    entry.push();
  }

  /** Appends a proposed batch with an expected revision; returns the error to send, or the result. */
  private commit(
    stream: string,
    expected: number,
    messages: { id: string; metadata: Map<string, string>; customMetadata: Uint8Array; data: Uint8Array }[],
  ):
    | { ok: true; revision: number; position: number }
    | { ok: false; error: grpc.ServiceError; current: number } {
    const target = this.faults.follower?.leader ?? this;
    if (target.tombstoned.has(stream)) return { ok: false, error: streamDeleted(stream), current: -1 };
    if (this.faults.appendError === 'maximum-append-size-exceeded') {
      const md = new grpc.Metadata();
      md.set('exception', 'maximum-append-size-exceeded');
      md.set('maximum-append-size', '1048576');
      return {
        ok: false,
        error: Object.assign(new Error('Maximum Append Size of 1048576 Exceeded.'), {
          code: grpc.status.INVALID_ARGUMENT,
          details: 'Maximum Append Size of 1048576 Exceeded.',
          metadata: md,
        }),
        current: -1,
      };
    }
    if (this.faults.appendError === 'invalid-argument') {
      return {
        ok: false,
        error: Object.assign(new Error('Bad request'), {
          code: grpc.status.INVALID_ARGUMENT,
          details: 'Bad request',
          metadata: new grpc.Metadata(),
        }),
        current: -1,
      };
    }
    if ((this.faults.racingWriter ?? 0) > 0) {
      this.faults.racingWriter! -= 1;
      const last = target.log.filter((r) => r.streamId === stream).at(-1);
      // Another writer appends a copy of the stream's last event (another id) before ours lands.
      if (last !== undefined) {
        target.write(stream, {
          type: last.type,
          data: last.data,
          metadata: {
            // eslint-disable-next-line crm/no-plain-dictionary -- test support: metadata the fault server wrote itself
            ...(JSON.parse(Buffer.from(last.metadata).toString('utf8')) as Record<string, unknown>),
            eventId: randomUUID(),
          },
        });
      }
    }
    const current = target.log.filter((r) => r.streamId === stream).length - 1;
    const ok =
      expected === EXPECTED_ANY ||
      (expected === EXPECTED_NO_STREAM && current === -1) ||
      (expected === EXPECTED_EXISTS && current >= 0) ||
      expected === current;
    if (!ok) return { ok: false, error: wrongExpected(stream, expected, current), current };
    let last: FakeRecord | undefined;
    for (const m of messages) {
      last = target.write(stream, {
        id: m.id,
        type: m.metadata.get('type') ?? '',
        contentType: m.metadata.get('content-type') ?? 'application/json',
        data: m.data,
        metadata: JSON.parse(Buffer.from(m.customMetadata).toString('utf8') || 'null') as unknown,
      });
    }
    return { ok: true, revision: last!.revision, position: last!.position };
  }

  private onAppend(
    call: grpc.ServerReadableStream<streamsPb.AppendReq, streamsPb.AppendResp>,
    cb: grpc.sendUnaryData<streamsPb.AppendResp>,
  ): void {
    const requiresLeader = call.metadata.get('requires-leader')[0] === 'true';
    this.calls.push({ method: 'append', requiresLeader });
    let options: streamsPb.AppendReq.Options | undefined;
    const messages: Parameters<FaultServer['commit']>[2] = [];
    call.on('data', (req: streamsPb.AppendReq) => {
      if (req.hasOptions()) options = req.getOptions();
      else messages.push(proposed(req.getProposedMessage()!));
    });
    call.on('end', () => {
      const refused = this.refuse(call);
      if (refused !== undefined) return cb(refused);
      const stream = Buffer.from(options!.getStreamIdentifier()!.getStreamName_asU8()).toString('utf8');
      const expected = options!.hasRevision()
        ? Number(options!.getRevision())
        : options!.hasNoStream()
          ? EXPECTED_NO_STREAM
          : options!.hasStreamExists()
            ? EXPECTED_EXISTS
            : EXPECTED_ANY;
      const answer = () => {
        const r = this.commit(stream, expected, messages);
        if (this.faults.breakAppendAfterWrite === true) {
          this.faults.breakAppendAfterWrite = false;
          cb(unavailable('append call broken after the write (failover)'));
          return;
        }
        if (!r.ok) {
          if (r.error.metadata.get('exception')[0] !== 'wrong-expected-version') return cb(r.error);
          const wev = new streamsPb.AppendResp.WrongExpectedVersion();
          if (r.current >= 0) wev.setCurrentRevision(String(r.current));
          else wev.setCurrentNoStream(new sharedPb.Empty());
          if (expected >= 0) wev.setExpectedRevision(String(expected));
          else wev.setExpectedNoStream(new sharedPb.Empty());
          return cb(null, new streamsPb.AppendResp().setWrongExpectedVersion(wev));
        }
        const success = new streamsPb.AppendResp.Success();
        success.setCurrentRevision(String(r.revision));
        const pos = new streamsPb.AppendResp.Position();
        pos.setCommitPosition(String(r.position));
        pos.setPreparePosition(String(r.position));
        success.setPosition(pos);
        cb(null, new streamsPb.AppendResp().setSuccess(success));
      };
      if (this.faults.holdAppends === true) this.held.push(answer);
      else answer();
    });
  }

  private onBatchAppend(
    call: grpc.ServerDuplexStream<streamsPb.BatchAppendReq, streamsPb.BatchAppendResp>,
  ): void {
    const requiresLeader = call.metadata.get('requires-leader')[0] === 'true';
    this.calls.push({ method: 'batchAppend', requiresLeader });
    const pending = new Map<
      string,
      { options?: streamsPb.BatchAppendReq.Options; messages: Parameters<FaultServer['commit']>[2] }
    >();
    call.on('error', () => undefined);
    call.on('data', (req: streamsPb.BatchAppendReq) => {
      const cid = req.getCorrelationId()!;
      const key = cid.getString();
      const entry = pending.get(key) ?? { messages: [] };
      pending.set(key, entry);
      if (req.hasOptions()) entry.options = req.getOptions();
      for (const m of req.getProposedMessagesList()) entry.messages.push(proposed(m));
      if (!req.getIsFinal()) return;
      pending.delete(key);
      const o = entry.options!;
      const stream = Buffer.from(o.getStreamIdentifier()!.getStreamName_asU8()).toString('utf8');
      const expected = o.hasStreamPosition()
        ? Number(o.getStreamPosition())
        : o.hasNoStream()
          ? EXPECTED_NO_STREAM
          : o.hasStreamExists()
            ? EXPECTED_EXISTS
            : EXPECTED_ANY;
      const answer = () => {
        const resp = new streamsPb.BatchAppendResp();
        resp.setCorrelationId(cid);
        resp.setStreamIdentifier(identifier(stream));
        const r = this.commit(stream, expected, entry.messages);
        if (this.faults.breakAppendAfterWrite === true) {
          this.faults.breakAppendAfterWrite = false;
          call.emit('error', unavailable('batch append stream broken after the write (failover)'));
          return;
        }
        if (!r.ok) {
          const status = new statusPb.Status();
          status.setCode(r.error.code as number);
          status.setMessage(r.error.details);
          const exception = r.error.metadata.get('exception')[0];
          if (exception === 'wrong-expected-version') {
            const wev = new sharedPb.WrongExpectedVersion();
            if (r.current >= 0) wev.setCurrentStreamRevision(String(r.current));
            else wev.setCurrentNoStream(new emptyPb.Empty());
            const any = new anyPb.Any();
            any.pack(wev.serializeBinary(), 'event_store.client.WrongExpectedVersion');
            status.setDetails(any);
          } else if (exception === 'maximum-append-size-exceeded') {
            const max = new sharedPb.MaximumAppendSizeExceeded();
            max.setMaxappendsize(1_048_576);
            const any = new anyPb.Any();
            any.pack(max.serializeBinary(), 'event_store.client.MaximumAppendSizeExceeded');
            status.setDetails(any);
          } else {
            const any = new anyPb.Any();
            any.pack(new sharedPb.Unknown().serializeBinary(), 'event_store.client.Unknown');
            status.setDetails(any);
          }
          resp.setError(status);
        } else {
          const success = new streamsPb.BatchAppendResp.Success();
          success.setCurrentRevision(String(r.revision));
          const pos = new sharedPb.AllStreamPosition();
          pos.setCommitPosition(String(r.position));
          pos.setPreparePosition(String(r.position));
          success.setPosition(pos);
          resp.setSuccess(success);
        }
        if (!call.writableEnded) call.write(resp);
      };
      if (this.faults.holdAppends === true) this.held.push(answer);
      else answer();
    });
  }
}

function identifier(stream: string): sharedPb.StreamIdentifier {
  const id = new sharedPb.StreamIdentifier();
  id.setStreamName(new Uint8Array(Buffer.from(stream, 'utf8')));
  return id;
}

function proposed(m: streamsPb.AppendReq.ProposedMessage | streamsPb.BatchAppendReq.ProposedMessage) {
  return {
    id: m.getId()!.getString(),
    metadata: new Map(m.getMetadataMap().entries()),
    customMetadata: m.getCustomMetadata_asU8(),
    data: m.getData_asU8(),
  };
}

function eventResp(r: FakeRecord): streamsPb.ReadResp {
  const rec = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  const id = new sharedPb.UUID();
  id.setString(r.id);
  rec.setId(id);
  rec.setStreamIdentifier(identifier(r.streamId));
  rec.setStreamRevision(r.type === '$streamDeleted' ? '9223372036854775807' : String(r.revision));
  rec.setCommitPosition(String(r.position));
  rec.setPreparePosition(String(r.position));
  rec.getMetadataMap().set('type', r.type);
  rec.getMetadataMap().set('content-type', r.contentType);
  rec.getMetadataMap().set('created', String(BigInt(r.created.getTime()) * 10_000n));
  rec.setCustomMetadata(r.metadata);
  rec.setData(r.data);
  const ev = new streamsPb.ReadResp.ReadEvent();
  ev.setEvent(rec);
  ev.setCommitPosition(String(r.position));
  return new streamsPb.ReadResp().setEvent(ev);
}

function serviceError(
  code: grpc.status,
  message: string,
  md: grpc.Metadata = new grpc.Metadata(),
): grpc.ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: md });
}

function unavailable(message: string): grpc.ServiceError {
  return serviceError(grpc.status.UNAVAILABLE, message);
}

function unimplemented(): grpc.ServiceError {
  return serviceError(grpc.status.UNIMPLEMENTED, 'not implemented by the fault server');
}

function streamDeleted(stream: string): grpc.ServiceError {
  const md = new grpc.Metadata();
  md.set('exception', 'stream-deleted');
  md.set('stream-name', stream);
  return serviceError(grpc.status.FAILED_PRECONDITION, `Event stream '${stream}' is deleted.`, md);
}

function wrongExpected(stream: string, expected: number, current: number): grpc.ServiceError {
  const md = new grpc.Metadata();
  md.set('exception', 'wrong-expected-version');
  md.set('stream-name', stream);
  md.set('expected-version', String(expected));
  if (current >= 0) md.set('actual-version', String(current));
  return serviceError(grpc.status.FAILED_PRECONDITION, `Append failed due to WrongExpectedVersion.`, md);
}
