-- ARGV: prefix, by ('booking'|'car'), id, nowMs, reason
local now = tick(tonumber(ARGV[4]))
local b
if ARGV[2] == 'car' then b = active_for_car(ARGV[3]) else b = load(ARGV[3]) end
if not b then return cjson.encode({ ok = false, reason = 'not_found' }) end
if b.status ~= 'held' and b.status ~= 'queued' and b.status ~= 'charging' then
  return cjson.encode({ ok = false, reason = 'already_' .. b.status, booking = b })
end
local out = {}
end_and_promote(b, 'cancelled', now, 'cancelled:' .. ARGV[5], out)
return outboxed({ ok = true, booking = b, transitions = out })