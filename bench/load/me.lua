-- wrk script: GET the protected resource with a bearer token.
-- LOAD_TOKEN is an access token obtained before the run.
wrk.method = "GET"
wrk.path = os.getenv("LOAD_ME_PATH") or "/api/me"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("LOAD_TOKEN") or "")

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non2xx") end
  io.write(string.format("RESULT requests=%d rps=%.0f p50_us=%d p99_us=%d non2xx=%d errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
