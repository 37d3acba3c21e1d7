-- wrk script: POST client_credentials token requests with client_secret_basic.
-- LOAD_BASIC is the Authorization header value, LOAD_SCOPE the scope (optional).
wrk.method = "POST"
wrk.path = os.getenv("LOAD_TOKEN_PATH") or "/oauth/token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("LOAD_BASIC")
wrk.body = "grant_type=client_credentials"
local scope = os.getenv("LOAD_SCOPE")
if scope and scope ~= "" then
  wrk.body = wrk.body .. "&scope=" .. scope
end

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
