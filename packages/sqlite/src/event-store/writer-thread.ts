/**
 * The writer thread of the SQLite event store (see `SqliteEventStore`): it owns the write connection and
 * runs the group commits, while the store's thread validates and canonicalizes the next appends.
 *
 * Protocol (in order on one port): the store posts `{ t: 'append', now, appends }`; the writer answers every
 * such message, in order, with `{ t: 'done', outcomes }` or, when the transaction failed, `{ t: 'failed',
 * count, message }`. Appends that arrive while a group commits are committed together as the next group:
 * before each commit the writer drains every message already queued (`receiveMessageOnPort`), so one fsync
 * covers all of them. `{ t: 'close' }` closes the connection and ends the thread.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { GroupCommitter, openWriterConnection, type WireAppend, type WireOutcome } from './group-commit.js';

export interface WriterThreadData {
  readonly file: string;
  readonly synchronous: 'full' | 'normal';
}

export type ToWriter =
  | { readonly t: 'append'; readonly now: string; readonly appends: readonly WireAppend[] }
  | { readonly t: 'close' };

export type FromWriter =
  | { readonly t: 'ready' }
  | { readonly t: 'done'; readonly outcomes: readonly WireOutcome[] }
  | { readonly t: 'failed'; readonly count: number; readonly message: string };

function run(): void {
  const port = parentPort;
  if (port === null) throw new Error('writer-thread.js runs as a worker thread of the SQLite event store');
  const data = workerData as WriterThreadData;
  const committer = new GroupCommitter(openWriterConnection(data.file, data.synchronous));
  const post = (m: FromWriter) => port.postMessage(m);

  const commit = (messages: readonly Extract<ToWriter, { t: 'append' }>[]): void => {
    if (messages.length === 0) return;
    let now = messages[0]!.now;
    const appends: WireAppend[] = [];
    for (const m of messages) {
      if (m.now > now) now = m.now;
      for (const a of m.appends) appends.push(a);
    }
    let outcomes: WireOutcome[];
    try {
      outcomes = committer.commit(now, appends);
    } catch (error) {
      // Nothing of the group was written: every append of every message is answered StoreUnavailable.
      const message = error instanceof Error ? error.message : String(error);
      for (const m of messages) post({ t: 'failed', count: m.appends.length, message });
      return;
    }
    let at = 0;
    for (const m of messages) {
      post({ t: 'done', outcomes: outcomes.slice(at, at + m.appends.length) });
      at += m.appends.length;
    }
  };

  port.on('message', (first: ToWriter) => {
    const batch: Extract<ToWriter, { t: 'append' }>[] = [];
    for (let m: ToWriter | undefined = first; m !== undefined;) {
      if (m.t === 'close') {
        commit(batch);
        committer.db.close();
        port.close();
        return;
      }
      batch.push(m);
      m = receiveMessageOnPort(port)?.message as ToWriter | undefined;
    }
    commit(batch);
  });
  post({ t: 'ready' });
}

run();
