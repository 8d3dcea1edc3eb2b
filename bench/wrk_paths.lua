-- wrk script of bench/api.py: every request GETs a random path from a file, and done() prints one
-- machine-readable result line.  Usage: wrk ... -s bench/wrk_paths.lua URL -- PATHS_FILE SEED
--
-- No response() callback: with one, wrk copies every response's headers and body into Lua strings,
-- work on the load generator's CPU (shared with the server) that grows with the body and says nothing
-- about the server. wrk counts failed responses (status >= 400) itself, in summary.errors.status.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  math.randomseed(tonumber(args[2]) * 1000 + id)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests":%d,"duration_s":%.6f,"bytes":%d,"p50_ms":%.3f,"p99_ms":%.3f,"non2xx":%d,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
