import * as E from 'fp-ts/lib/Either.js';

/**
 * Checks an EventStoreDB connection string for the forms that cannot work in production, with a message
 * that says what to write instead. The 6.2.1 client (and kurrentdb-client 1.x) reads
 * `esdb+discover://node1,node2,node3` as "gossip with node1 only" (kurrent-io/KurrentDB-Client-NodeJS#414):
 * with node1 down nothing connects. A cluster is given as a seed list, `esdb://node1:2113,node2:2113,node3:2113`,
 * or as `esdb+discover://` with one DNS name that resolves to every node.
 */
export function checkConnectionString(connectionString: string): E.Either<string, string> {
  const match = /^(esdb(?:\+discover)?):\/\/(?:[^@/?]*@)?([^/?]*)/.exec(connectionString);
  if (match === null) {
    return E.left(
      `'${redact(connectionString)}' is not an EventStoreDB connection string: esdb://host:2113?tls=false, or esdb://node1:2113,node2:2113,node3:2113 for a cluster`,
    );
  }
  const [, scheme, hosts] = match;
  const list = hosts!.split(',').filter((h) => h !== '');
  if (list.length === 0) return E.left(`'${redact(connectionString)}' names no host`);
  if (scheme === 'esdb+discover' && list.length > 1) {
    return E.left(
      `'${redact(connectionString)}' lists several hosts after esdb+discover://: the client would gossip with the first one only (with it down, nothing connects). Write the seed list as esdb://${list.join(',')}${connectionString.slice(match[0].length)} (or esdb+discover:// with one DNS name that resolves to every node)`,
    );
  }
  return E.right(connectionString);
}

/** The connection string without its password. */
function redact(connectionString: string): string {
  return connectionString.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
