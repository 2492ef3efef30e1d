-- wrk script: every request creates a new organization (a unique name per request).
-- Environment: BENCH_PATH, BENCH_AUTH (Authorization value; several separated by "|" are used in
-- turn, one per request), BENCH_BODY (a format with one %s for the name), BENCH_PREFIX (unique per
-- window). Prints one RESULT line for bench/run.ts.
local path = os.getenv("BENCH_PATH")
local body = os.getenv("BENCH_BODY")
local prefix = os.getenv("BENCH_PREFIX")
local auths = {}
for auth in string.gmatch(os.getenv("BENCH_AUTH"), "[^|]+") do auths[#auths + 1] = auth end
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = auths[1] }
local counter = 0

request = function()
  counter = counter + 1
  headers["Authorization"] = auths[(counter % #auths) + 1]
  return wrk.format("POST", path, headers, string.format(body, prefix .. "-" .. counter))
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.3f %.3f %d\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout))
end
