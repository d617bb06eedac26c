-- wrk driver for benchmarks/secured.py: each line of the file is METHOD<TAB>PATH<TAB>TOKEN,
-- sent with "Authorization: Bearer TOKEN"; a uniformly random line per request.
-- done() prints one machine-readable line, as the shared harness's driver does.

local reqs = {}

function init(args)
  for line in io.lines(args[1]) do
    local method, path, token = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    if method then
      reqs[#reqs + 1] = wrk.format(method, path, { ["Authorization"] = "Bearer " .. token })
    end
  end
  assert(#reqs > 0, "no requests in " .. args[1])
  math.randomseed(os.time())
end

function request()
  return reqs[math.random(#reqs)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p99":%d}}\n',
    summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(99)))
end
