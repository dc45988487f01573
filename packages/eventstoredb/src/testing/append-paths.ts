import { EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { append as unaryAppend } from '@eventstore/db-client/dist/streams/appendToStream/append.js';

/**
 * TEST AND BENCHMARK SUPPORT: the two ways the 6.2.1 client can append, side by side on one connection, so a
 * benchmark can measure what containing the BatchAppend promise-bank bug costs (the adapter uses `unary`).
 * - `batch`: `appendToStream`, which multiplexes every append of the process on one BatchAppend stream;
 * - `unary`: the single-call Append RPC, one gRPC call per append.
 */
export interface AppendPaths {
  readonly batch: (stream: string, events: number) => Promise<void>;
  readonly unary: (stream: string, events: number) => Promise<void>;
  readonly close: () => Promise<void>;
}

export function appendPaths(connectionString: string, eventBytes = 300): AppendPaths {
  const client = EventStoreDBClient.connectionString(connectionString);
  const payload = { text: 'x'.repeat(Math.max(0, eventBytes - 20)) };
  const events = (n: number) =>
    Array.from({ length: n }, () =>
      jsonEvent({ type: 'BenchEvent', data: payload, metadata: { bench: true } }),
    );
  return {
    batch: async (stream, n) => {
      await client.appendToStream(stream, events(n));
    },
    unary: async (stream, n) => {
      await unaryAppend.call(client, stream, events(n), {
        expectedRevision: 'any',
        batchAppendSize: 1_048_576,
      });
    },
    close: () => client.dispose(),
  };
}
