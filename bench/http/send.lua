-- SPDX-License-Identifier: MIT
-- bench/http/send.lua: wrk sends one message per request, POST to the
-- URL's path (e.g. http://127.0.0.1:PORT/v1/queues/q/messages) with a
-- body of SIZE bytes (the script's argument after "--", default 100).
-- The requests are made once (no request() function: wrk's static
-- path), and the responses are not parsed; done() prints one line
--   WRK requests=N duration_us=N status_errors=N ... p50_us=N p99_us=N
-- that bench/http/run.py reads.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local size = tonumber(args[1] or "100")
   wrk.method = "POST"
   wrk.body = string.rep("m", size)
   wrk.headers["Content-Type"] = "application/octet-stream"
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("WRK requests=%d duration_us=%d status_errors=%d "
      .. "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d "
      .. "p50_us=%d p99_us=%d\n", summary.requests, summary.duration,
      e.status, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(99)))
end
