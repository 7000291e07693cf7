-- wrk script shared by every HTTP run of `make bench`, so nginx and the relay see the same
-- client: keep-alive POSTs with a small JSON body.
--
--   wrk ... -s bench/wrk/load.lua URL -- PATH BODIES_FILE
--
-- BODIES_FILE holds one JSON body per line, sent round robin (each wrk thread starts at a
-- different offset); "-" sends one fixed body (the nginx ceiling). With SECCHATS_WRK_DELAY_MS
-- set, each connection waits that long between requests: the half-of-peak latency runs.
-- At the end it prints key=value lines that bench/run_all.py parses.

local fixed_body = '{"object":"User","userId":"00000000000000000000000000000000","lastMessageTimestamp":0}'
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

local path
local bodies = {}
local next_index = 1

function init(args)
  path = args[1] or "/"
  local file = args[2] or "-"
  if file == "-" then
    bodies = { fixed_body }
  else
    for line in io.lines(file) do
      if #line > 0 then table.insert(bodies, line) end
    end
    if #bodies == 0 then error("no request bodies in " .. file) end
  end
  next_index = ((thread_index or 0) * 7919) % #bodies + 1
end

local headers = { ["Content-Type"] = "application/json" }

function request()
  local body = bodies[next_index]
  next_index = next_index % #bodies + 1
  return wrk.format("POST", path, headers, body)
end

local delay_ms = tonumber(os.getenv("SECCHATS_WRK_DELAY_MS") or "0")
if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local socket_errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("wrk_requests=%d\n", summary.requests))
  io.write(string.format("wrk_rps=%.1f\n", summary.requests / seconds))
  io.write(string.format("wrk_p50_ms=%.3f\n", latency:percentile(50) / 1000))
  io.write(string.format("wrk_p99_ms=%.3f\n", latency:percentile(99) / 1000))
  io.write(string.format("wrk_max_ms=%.3f\n", latency.max / 1000))
  io.write(string.format("wrk_errors_status=%d\n", summary.errors.status))
  io.write(string.format("wrk_errors_socket=%d\n", socket_errors))
end
