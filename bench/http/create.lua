-- Creates ES_CREATE examples (POST /examples) and appends their ids to ES_IDS_FILE, one a
-- line; the thread stops once it has them all.
local limit = tonumber(os.getenv("ES_CREATE") or "3000")
local count = 0
local out

function init(args)
  out = assert(io.open(assert(os.getenv("ES_IDS_FILE")), "a"))
end

function request()
  return wrk.format("POST", "/examples", {["Content-Type"] = "application/json"}, '{"a": 0}')
end

function response(status, headers, body)
  if status == 201 and count < limit then
    local id = body:match('"id":"([0-9a-f%-]+)"')
    if id then
      out:write(id, "\n")
      count = count + 1
    end
  end
  if count >= limit then
    out:flush()
    wrk.thread:stop()
  end
end
