-- SPDX-License-Identifier: MIT
-- bench/http/recv.lua: wrk receives and acks, one message at a time,
-- on the queue of the URL's path (http://127.0.0.1:PORT/v1/queues/q):
--   POST /v1/queues/q/receive?max=1     -> 200 {"messages":[{..."receipt":R...}]}
--   DELETE /v1/queues/q/messages/R      -> 204
-- Each receipt a response brings is acked by the next request sent.
--
-- wrk 4.1 gives request() and response() no connection: all connections
-- of a wrk thread share one Lua state, and request() is called when any
-- of them is ready to send.  So the state is per thread, a FIFO of
-- receipts received and not yet acked: request() sends a DELETE for the
-- oldest one if there is one, else a receive.  Every receive that
-- brought a message is followed by exactly one ack; at any time at most
-- as many receipts wait as the thread has connections, so the requests
-- alternate (about half receives, half acks) as they would per
-- connection.  done() prints one line that bench/http/run.py reads:
--   WRK requests=N duration_us=N received=N acked=N empty=N other=N ...

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

-- per thread (globals, for thread:get in done)
received, acked, empty, other = 0, 0, 0, 0
local fifo, head, tail = {}, 1, 0
local prefix, host, recvreq

function init(args)
   prefix = wrk.path
   host = wrk.headers["Host"]
   recvreq = "POST " .. prefix .. "/receive?max=1 HTTP/1.1\r\nHost: " .. host
      .. "\r\nContent-Length: 0\r\n\r\n"
end

function request()
   if head <= tail then
      local r = fifo[head]
      fifo[head] = nil
      head = head + 1
      return "DELETE " .. prefix .. "/messages/" .. r .. " HTTP/1.1\r\nHost: "
         .. host .. "\r\n\r\n"
   end
   return recvreq
end

function response(status, headers, body)
   if status == 204 then
      acked = acked + 1
   elseif status == 200 then
      local r = string.match(body, '"receipt":"([^"]+)"')
      if r then
         received = received + 1
         tail = tail + 1
         fifo[tail] = r
      else
         empty = empty + 1   -- the queue ran dry
      end
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local n = { received = 0, acked = 0, empty = 0, other = 0 }
   for _, t in ipairs(threads) do
      for k, _ in pairs(n) do
         n[k] = n[k] + t:get(k)
      end
   end
   local e = summary.errors
   io.write(string.format("WRK requests=%d duration_us=%d received=%d acked=%d "
      .. "empty=%d other=%d status_errors=%d connect_errors=%d read_errors=%d "
      .. "write_errors=%d timeouts=%d p50_us=%d p99_us=%d\n", summary.requests,
      summary.duration, n.received, n.acked, n.empty, n.other, e.status,
      e.connect, e.read, e.write, e.timeout, latency:percentile(50),
      latency:percentile(99)))
end
