-- ARGV: prefix, nowMs, stationIds JSON
local now = tick(tonumber(ARGV[2]))
local out = {}
for _, sid in ipairs(cjson.decode(ARGV[3])) do promote_at(sid, now, out) end
return outboxed({ transitions = out })