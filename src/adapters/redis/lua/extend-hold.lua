-- ARGV: prefix, bookingId, expiresAt, nowMs. Only ever later, and only while held.
local now = tick(tonumber(ARGV[4]))
local b = load(ARGV[2])
if not b then return cjson.encode({ ok = false, reason = 'not_found' }) end
if b.status ~= 'held' then return cjson.encode({ ok = false, reason = 'not_held', booking = b }) end
local at = tonumber(ARGV[3])
if at > b.expiresAt then
  b.expiresAt = at
  redis.call('ZADD', K_EXPIRY, int(at), b.bookingId)
end
b.updatedAt = now
save(b)
return cjson.encode({ ok = true, booking = b })
