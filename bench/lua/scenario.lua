-- One parametric wrk scenario. Arguments after `--` are key=value pairs:
--   method=GET|POST|DELETE   path=/v1/secrets/{id}/payload ({id} is replaced by an id from ids=FILE)
--   token=...                accept=...   content_type=...   body=FILE
--   headers=FILE             extra request headers, one `Name: value` per line (a pre-signed AWS KMS request)
--   trace_errors=1           print every failed response to stderr (diagnosis only)
--   ids=FILE                 pick=cycle|consume   (consume: every request uses a fresh id, threads split the
--                            file, and a thread stops when its ids are used up)
-- done() prints one line `BENCH_JSON {...}` that the harness parses.

local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

local opts, ids, cursor, headers, body, formatted

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  opts = {}
  for _, a in ipairs(args) do
    local k, v = a:match("^([%w_]+)=(.*)$")
    if k then opts[k] = v end
  end
  headers = {}
  if opts.token then headers["X-Auth-Token"] = opts.token end
  if opts.accept then headers["Accept"] = opts.accept end
  if opts.content_type then headers["Content-Type"] = opts.content_type end
  if opts.body then body = read_file(opts.body) end
  if opts.headers then
    for line in io.lines(opts.headers) do
      local k, v = line:match("^([^:]+):%s*(.-)%s*$")
      if k then headers[k] = v end
    end
  end
  ids = {}
  if opts.ids then
    local nthreads = tonumber(opts.threads or "1")
    local i = 0
    for line in io.lines(opts.ids) do
      if opts.pick ~= "consume" or (i % nthreads) == tid then
        table.insert(ids, line)
      end
      i = i + 1
    end
  end
  cursor = (opts.pick == "consume") and 0 or (tid * 7919)
  -- Every request is formatted here, before the run: formatting one in `request()` (a pattern substitution and
  -- a header table walk) costs wrk ~3 µs of CPU per request on the two cores the server also runs on, while the
  -- baseline's static request costs it nothing, and that difference would be charged to the server.
  formatted = {}
  if #ids == 0 then
    formatted[1] = wrk.format(opts.method or "GET", opts.path, headers, body)
  else
    for i, id in ipairs(ids) do
      formatted[i] = wrk.format(opts.method or "GET", (opts.path:gsub("{id}", id)), headers, body)
    end
  end
  if opts.trace_errors then
    -- Only when asked (ARCA_BENCH_TRACE): a response hook costs wrk header parsing on every response.
    response = function(status, _, body)
      if status >= 400 then io.stderr:write(string.format("HTTP %d %s\n", status, body)) end
    end
  end
end

function request()
  if #ids == 0 then return formatted[1] end
  cursor = cursor + 1
  local n = cursor
  if opts.pick == "consume" then
    if n >= #formatted then
      -- Every id is used: this thread is done (the run's duration then ends here).
      wrk.thread:stop()
      n = #formatted
    end
  else
    n = (n % #formatted) + 1
  end
  return formatted[n]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"status_errors":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
