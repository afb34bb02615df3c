-- ARGV: prefix, carId, nowMs, reason
local now = tick(tonumber(ARGV[3]))
local b = active_for_car(ARGV[2])
if not b or b.status ~= 'charging' then return cjson.encode({ ok = false, reason = 'not_charging', booking = b }) end
local out = {}
end_and_promote(b, 'completed', now, 'completed:' .. ARGV[4], out)
return outboxed({ ok = true, booking = b, transitions = out })