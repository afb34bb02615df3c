-- ARGV: prefix. Read-only, one consistent snapshot.
local rows = {}
local flat = redis.call('HGETALL', K_STATIONS)
for i = 1, #flat, 2 do
  local sid = flat[i]
  table.insert(rows, { id = sid, ports = tonumber(flat[i + 1]),
    holds = tonumber(redis.call('HGET', K_HOLDS, sid) or '0'),
    charging = tonumber(redis.call('HGET', K_CHARGING, sid) or '0'),
    queueLength = tonumber(redis.call('HGET', K_QFIRST, sid) or '0') })
end
return cjson.encode(rows)
