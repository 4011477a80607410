-- wrk script for bench/bench_ingest.py: sends pre-signed generic alerts, each line once.
-- Args: <path> <file> <threads>. File lines: timestamp \t hex signature \t idempotency key
-- (may be empty) \t JSON body. Thread i sends lines i, i+threads, ...; when its slice is used
-- up it sends GET /api/health/live (not counted) and the run is reported as EXHAUSTED.
local threads = {}
local lines = {}
local path, idx, step = nil, 1, 1
accepted, other, exhausted = 0, 0, 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  path, step = args[1], tonumber(args[3])
  for l in io.lines(args[2]) do table.insert(lines, l) end
  idx = id + 1
end

function request()
  local l = lines[idx]
  if l == nil then
    exhausted = 1
    return wrk.format("GET", "/api/health/live")
  end
  idx = idx + step
  local ts, sig, idem, body = l:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
  local h = {["Content-Type"] = "application/json", ["X-OnCall-Timestamp"] = ts,
             ["X-OnCall-Signature"] = "v1=" .. sig}
  if idem ~= "" then h["Idempotency-Key"] = idem end
  return wrk.format("POST", path, h, body)
end

function response(status, headers, body)
  if status == 202 then accepted = accepted + 1 elseif status ~= 200 then other = other + 1 end
end

function done(summary, latency, requests)
  local acc, oth, ex = 0, 0, 0
  for _, t in ipairs(threads) do
    acc = acc + t:get("accepted"); oth = oth + t:get("other"); ex = ex + t:get("exhausted")
  end
  io.write(string.format("RESULT accepted=%d other=%d seconds=%.3f p50=%.2f p99=%.2f exhausted=%d\n",
    acc, oth, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, ex))
end
