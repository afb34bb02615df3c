-- ARGV: prefix, seenBeforeMs, nowMs, limit. Ends the bookings of cars that stopped streaming.
local now = tick(tonumber(ARGV[3]))
local due = redis.call('ZRANGEBYSCORE', K_SEEN, '-inf', '(' .. int(tonumber(ARGV[2])), 'LIMIT', 0, tonumber(ARGV[4]))
local expired, out, rest = {}, {}, {}
-- Stale queue entries first, so a port freed by a stale session is never promoted to a stale car.
for _, id in ipairs(due) do
  local b = load(id)
  if b and b.status == 'queued' then
    end_and_promote(b, 'cancelled', now, 'cancelled:lost_contact', out)
    table.insert(expired, b)
  elseif b and (b.status == 'held' or b.status == 'charging') then
    table.insert(rest, b)
  else
    redis.call('ZREM', K_SEEN, id)
  end
end
for _, b in ipairs(rest) do
  if b.status == 'charging' then
    end_and_promote(b, 'completed', now, 'completed:lost_contact', out)
  else
    end_and_promote(b, 'cancelled', now, 'cancelled:lost_contact', out)
  end
  table.insert(expired, b)
end
return outboxed({ expired = expired, transitions = out })