-- One wrk scenario: requests drawn at random from a file of request lines, and a JSON summary
-- (latency percentiles, errors) for bench/run to read.
--   BENCH_REQUESTS  file of "METHOD<TAB>PATH<TAB>BODY" lines (BODY optional, may be empty); a
--                   body's @N@ becomes a number unique to the request, so writes stay writes
--                   instead of repeating an unchanged upsert
--   BENCH_HEADERS   file of "Name: value" lines sent with every request (optional)
local requests = {}
local templates = {}
local sent = 0
local threads = {}
server_errors = 0

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_id", #threads)
end

local function read_lines(path)
  local lines = {}
  local file = path and io.open(path, "r")
  if file then
    for line in file:lines() do
      if line ~= "" then lines[#lines + 1] = line end
    end
    file:close()
  end
  return lines
end

function init(args)
  for _, line in ipairs(read_lines(os.getenv("BENCH_HEADERS"))) do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
  for _, line in ipairs(read_lines(os.getenv("BENCH_REQUESTS"))) do
    local method, path, body = line:match("^([^\t]+)\t([^\t]+)\t?(.*)$")
    if body:find("@N@", 1, true) then
      templates[#templates + 1] = { method, path, body }
    else
      requests[#requests + 1] = wrk.format(method, path, nil, body ~= "" and body or nil)
    end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

function request()
  if #templates > 0 then
    local t = templates[math.random(#templates)]
    sent = sent + 1
    local n = string.format("%d-%d-%d", os.time(), thread_id or 0, sent)
    return wrk.format(t[1], t[2], nil, (t[3]:gsub("@N@", n)))
  end
  return requests[math.random(#requests)]
end

-- 5xx answers apart from the other errors (wrk counts every status of 400 and above as one).
function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
end

function done(summary, latency, requests)
  local e = summary.errors
  local server = 0
  for _, thread in ipairs(threads) do server = server + thread:get("server_errors") end
  io.write(string.format(
    'BENCH {"requests":%d,"seconds":%.3f,"p50_ms":%.2f,"p95_ms":%.2f,"p99_ms":%.2f,"socket_errors":%d,"http_errors":%d,"server_errors":%d}\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status, server))
end
