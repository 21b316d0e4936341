-- wrk script: replay a list of request paths in order, then start again from the top.
-- Usage: wrk -t1 -cN -d10s --latency -s walk.lua http://127.0.0.1:PORT -- PATHS_FILE PREFIX
-- Each thread walks the list from an offset of its own (thread i starts at i/threads of the
-- list), so the connections of one thread share the list the way a viewer's connections do.
-- done() prints one JSON line (prefixed "WRKJSON ") with the rate and latency percentiles.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local file = args[1]
   local prefix = args[2] or ""
   local nthreads = tonumber(args[3]) or 1
   requests = {}
   for line in io.lines(file) do
      if #line > 0 then
         requests[#requests + 1] = wrk.format("GET", prefix .. line)
      end
   end
   if #requests == 0 then
      error("no requests in " .. file)
   end
   index = math.floor(((id or 0) * #requests) / nthreads)
end

function request()
   index = index + 1
   if index > #requests then
      index = 1
   end
   return requests[index]
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {"duration_us": %d, "requests": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d, "p999": %d}}\n',
      summary.duration, summary.requests, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.max,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
