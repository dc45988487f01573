-- wrk script of bench/src/ingest-http.ts: the external load generator for HTTP ingest.
-- Run as `wrk -t C -c C -d 600s -s ingest.lua <url> -- <dir> <token>`: one connection per thread, so each
-- thread sends its requests one at a time, in order. Thread k posts the lines of <dir>/bodies-<k>.txt
-- ("<events> <json body>" per line: its customers' events in order, as the bench's own clients do), then
-- prints "crm-ledger-wrk-thread-done" on stderr and stops; the bench stops wrk (SIGINT) when every thread
-- is done. done() prints one JSON line: requests, events acknowledged (HTTP 201), other statuses, latency.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  counts = {}
  for line in io.lines(args[1] .. "/bodies-" .. tid .. ".txt") do
    local n, body = line:match("^(%d+) (.*)$")
    table.insert(bodies, body)
    table.insert(counts, tonumber(n))
  end
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[2] }
  sent = 0
  answered = 0
  events = 0
  other = 0
  if #bodies == 0 then
    io.stderr:write("crm-ledger-wrk-thread-done\n")
    io.stderr:flush()
  end
end

function request()
  -- wrk 4.1 calls request() once on thread 0 before it starts, to check the request: not sent, so not counted
  if tid == 0 and not verified then
    verified = true
    return wrk.format("POST", "/v1/events/batch", headers, bodies[1] or "")
  end
  if sent >= #bodies then
    -- nothing left to send: the thread is being stopped; a request that changes nothing
    return wrk.format("GET", "/health")
  end
  sent = sent + 1
  return wrk.format("POST", "/v1/events/batch", headers, bodies[sent])
end

function response(status, hdrs, body)
  if answered >= #bodies then
    return
  end
  answered = answered + 1
  if status == 201 then
    events = events + counts[answered]
  else
    other = other + 1
    io.stderr:write("crm-ledger-wrk-other " .. status .. " " .. string.sub(body or "", 1, 300) .. "\n")
  end
  if answered == #bodies then
    io.stderr:write("crm-ledger-wrk-thread-done\n")
    io.stderr:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local ev, ot, an = 0, 0, 0
  for _, t in ipairs(threads) do
    ev = ev + t:get("events")
    ot = ot + t:get("other")
    an = an + t:get("answered")
  end
  io.write(string.format(
    'CRM_LEDGER_WRK {"requests":%d,"answered":%d,"events":%d,"otherStatus":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,"errors":%d}\n',
    summary.requests, an, ev, ot, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
