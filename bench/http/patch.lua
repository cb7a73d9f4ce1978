-- PATCH /examples/<id> with {"a": n} on ids drawn at random from ES_IDS_FILE; prints the
-- latency percentiles and the count of non-2xx answers in a form http_load.sh parses.
local ids = {}
local n = 0

function init(args)
  for line in io.lines(assert(os.getenv("ES_IDS_FILE"))) do ids[#ids + 1] = line end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function request()
  n = n + 1
  local id = ids[math.random(#ids)]
  return wrk.format("PATCH", "/examples/" .. id, {["Content-Type"] = "application/json"},
                    '{"a": ' .. n .. '}')
end

function done(summary, latency, requests)
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("PCT %g %.3f\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("NON2XX %d\n", summary.errors.status))
  io.write(string.format("SOCKERR %d\n", summary.errors.connect + summary.errors.read +
                                           summary.errors.write + summary.errors.timeout))
end
