-- ARGV: prefix, nowMs, limit, retentionMs. Atomic, so every instance may sweep at once.
local now = tick(tonumber(ARGV[2]))
local due = redis.call('ZRANGEBYSCORE', K_EXPIRY, '-inf', int(now), 'LIMIT', 0, tonumber(ARGV[3]))
local expired, out = {}, {}
for _, id in ipairs(due) do
  local b = load(id)
  if b and b.status == 'held' then
    end_and_promote(b, 'expired', now, 'expired', out)
    table.insert(expired, b)
  else
    redis.call('ZREM', K_EXPIRY, id)
  end
end
-- Forget finished bookings after the retention (idempotent retries come within seconds).
local old = redis.call('ZRANGEBYSCORE', K_ENDED, '-inf', int(now - tonumber(ARGV[4])), 'LIMIT', 0, 1000)
for _, id in ipairs(old) do
  redis.call('HDEL', K_BOOKINGS, id)
  redis.call('ZREM', K_ENDED, id)
end
return outboxed({ expired = expired, transitions = out })