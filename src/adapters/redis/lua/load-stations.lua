-- ARGV: prefix, nowMs, stations JSON [{id, ports}]. Capacity changes take effect at once (promotions).
local now = tick(tonumber(ARGV[2]))
local out = {}
local stations = cjson.decode(ARGV[3])
for _, s in ipairs(stations) do redis.call('HSET', K_STATIONS, s.id, s.ports) end
for _, s in ipairs(stations) do promote_at(s.id, now, out) end
return outboxed({ transitions = out })