#!/usr/bin/env bash
# Cluster cases of issue #22 that no fault server can stand for, run against YOUR three-node EventStoreDB
# cluster (nothing here starts one). From the repository root, after `pnpm install && pnpm build`:
#
#   ESDB_NODES="node1.example:2113 node2.example:2113 node3.example:2113" \
#   ESDB_QUERY="tls=true&tlsCAFile=/path/ca.crt" \
#   ESDB_STOP='ssh {host} sudo systemctl stop eventstore' \
#   ESDB_START='ssh {host} sudo systemctl start eventstore' \
#   infra/eventstoredb/cluster-check.sh
#
# ESDB_STOP / ESDB_START are commands with {host} (and {node}: 1, 2 or 3) replaced, e.g.
# 'docker stop esdb-node{node}'. ESDB_HTTP (default https) is the scheme of the nodes' /gossip endpoint;
# ESDB_CURL_OPTS (e.g. "--cacert ca.crt" or "-k") is passed to curl. Every step prints PASS or FAIL; the
# script exits non-zero on the first FAIL and always restarts the nodes it stopped.
#
# 1. conformance: the adapter's conformance suite against the seed list (a namespace per test: it writes
#    only streams of its own);
# 2. node1 down: with the first seed stopped, the seed list still connects, appends and reads;
# 3. leader kill: a writer appends 300 events while a subscription reads them; the leader is stopped in the
#    middle; every acknowledged append must be delivered once, in order, and the subscription must come back;
# 4. follower read: an append followed at once by readStream, with the connection preferring followers,
#    must read its own write (the adapter asks for the leader where reads must see writes).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${ESDB_NODES:?ESDB_NODES is required: three host:port separated by spaces}"
: "${ESDB_STOP:?ESDB_STOP is required: a command with {host} or {node} that stops one node}"
: "${ESDB_START:?ESDB_START is required: a command with {host} or {node} that starts it again}"
read -r -a NODES <<<"$ESDB_NODES"
[ "${#NODES[@]}" -eq 3 ] || { echo "ESDB_NODES must list three nodes" >&2; exit 2; }
QUERY="${ESDB_QUERY:-tls=true}"
SEEDS="esdb://$(IFS=,; echo "${NODES[*]}")?${QUERY}"
HTTP="${ESDB_HTTP:-https}"
STOPPED=()

run_on() { # run_on <template> <node number>
  local n="$2" host="${NODES[$(($2 - 1))]%%:*}"
  local cmd="${1//\{host\}/$host}"; cmd="${cmd//\{node\}/$n}"
  echo "  \$ $cmd"; bash -c "$cmd"
}
stop_node() { run_on "$ESDB_STOP" "$1"; STOPPED+=("$1"); }
restart_all() { for n in "${STOPPED[@]:-}"; do [ -n "$n" ] && run_on "$ESDB_START" "$n" || true; done; STOPPED=(); }
trap restart_all EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1" >&2; exit 1; }

leader_node() { # the number (1-3) of the node the cluster's gossip names leader
  local i=1
  for node in "${NODES[@]}"; do
    local json
    if json=$(curl -fsS ${ESDB_CURL_OPTS:-} --max-time 5 "$HTTP://$node/gossip" 2>/dev/null); then
      node -e '
        const g = JSON.parse(process.argv[1]); const nodes = process.argv[2].split(" ");
        const l = g.members.find((m) => m.state === "Leader" && m.isAlive);
        const i = l ? nodes.findIndex((n) => n.split(":")[0] === l.httpEndPointIp || n.split(":")[0] === l.externalHttpIp) : -1;
        if (i < 0) process.exit(1); console.log(i + 1);' "$json" "$ESDB_NODES" && return 0
    fi
    i=$((i + 1))
  done
  return 1
}

echo "== 1. conformance suite against $SEEDS"
EVENTSTORE_CONNECTION_STRING="$SEEDS" pnpm --filter @crm-ledger/eventstoredb exec vitest run src/conformance.int.spec.ts \
  && pass "conformance" || fail "conformance"

NS="clustercheck$(date +%s)."
check() { # check <case> <connection string>: the node part of cases 2-4, with the built adapter
  node --input-type=module - "$1" "$2" "$NS" <<'JS'
const { openEventStoreDbStore } = await import(
  new URL('packages/eventstoredb/dist/index.js', `file://${process.cwd()}/`).href
);
const [, , kind, url, namespace] = process.argv;
const store = openEventStoreDbStore({ connectionString: url, namespace, deadlineMs: 10_000,
  onResubscribe: (i) => console.log(`  resubscribing (${i.attempt}): ${i.reason}`) });
const ev = (c, n) => ({ eventId: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, type: 'CustomerRegistered',
  schemaVersion: 1, customerId: c, occurredAt: '2024-05-01T09:30:00Z', data: { segment: 'B2C', acquisitionChannel: 'referral' } });
const ok = (r, what) => { if (r._tag !== 'Right') { console.error(what, JSON.stringify(r.left)); process.exit(1); } return r.right; };
if (kind === 'basic') {
  const r = ok(await store.append('customer-n1down', [ev('n1down', 1)]), 'append');
  const read = ok(await store.readStream('customer-n1down'), 'read');
  if (read.length !== 1 || r.duplicate) process.exit(1);
} else if (kind === 'writer') {
  // Appends 300 events one by one (retrying StoreUnavailable, as the ingest API's clients do), while a
  // subscription reads; prints progress so the shell can kill the leader in the middle.
  const abort = new AbortController(); const seen = [];
  const sub = (async () => { for await (const b of store.subscribe({ signal: abort.signal })) seen.push(...b); })();
  const acked = [];
  for (let i = 1; i <= 300; i++) {
    for (;;) {
      const r = await store.append('customer-leaderkill', [ev('leaderkill', i)]);
      if (r._tag === 'Right') { acked.push(r.right.positions[0]); break; }
      if (r.left.type !== 'StoreUnavailable') { console.error(JSON.stringify(r.left)); process.exit(1); }
      await new Promise((s) => setTimeout(s, 500));
    }
    if (i === 100) console.log('HALFWAY');
  }
  const until = Date.now() + 60_000;
  while (seen.length < 300 && Date.now() < until) await new Promise((s) => setTimeout(s, 200));
  const status = JSON.stringify(store.subscriptionStatus());
  abort.abort(); await sub;
  const positions = seen.map((e) => e.globalPosition);
  const inOrder = positions.every((p, i) => i === 0 || p > positions[i - 1]);
  console.log(`  acknowledged ${acked.length}, delivered ${seen.length}, in order ${inOrder}, status ${status}`);
  if (seen.length !== 300 || !inOrder || !acked.every((p) => positions.includes(p))) process.exit(1);
} else if (kind === 'follower') {
  for (let i = 1; i <= 50; i++) {
    ok(await store.append('customer-followerread', [ev('followerread', i)], { expectedRevision: i === 1 ? 'no_stream' : i - 2 }), 'append');
    const read = ok(await store.readStream('customer-followerread'), 'read');
    if (read.length !== i) { console.error(`read ${read.length} events after appending ${i}`); process.exit(1); }
  }
}
await store.close();
JS
}

echo "== 2. node1 down: the seed list still connects"
stop_node 1
check basic "$SEEDS" && pass "node1 down" || fail "node1 down"
restart_all
sleep 15

echo "== 3. leader kill during appends and a subscription"
LEADER=$(leader_node) || fail "no leader found through /gossip"
echo "  leader is node $LEADER"
coproc WRITER { check writer "$SEEDS" 2>&1; }
while read -r line <&"${WRITER[0]}"; do
  echo "  $line"
  if [ "$line" = "HALFWAY" ]; then stop_node "$LEADER"; fi
done
wait "$WRITER_PID" && pass "leader kill" || fail "leader kill"
restart_all
sleep 15

echo "== 4. read-your-writes with nodePreference=follower"
check follower "${SEEDS}&nodePreference=follower" && pass "follower read" || fail "follower read"
echo "all cluster cases passed"
