-- ARGV: prefix, nowMs, stations JSON [{id, ports}], bookings JSON (each a full booking, built by the caller).
-- Rebuilds lost state from the log in one step: stations first, then each booking not already known
-- (held: a hold and its expiry; charging: a session; queued: back in the queue). No transitions.
local now = tick(tonumber(ARGV[2]))
for _, s in ipairs(cjson.decode(ARGV[3])) do redis.call('HSET', K_STATIONS, s.id, s.ports) end
local restored = 0
for _, b in ipairs(cjson.decode(ARGV[4])) do
  local known = redis.call('HEXISTS', K_BOOKINGS, b.bookingId) == 1 or redis.call('HEXISTS', K_CARS, b.carId) == 1
  local sid = b.stationId or first_station(b)
  if not known and sid and ports(sid) then
    redis.call('HSET', K_CARS, b.carId, b.bookingId)
    redis.call('ZADD', K_SEEN, int(now), b.bookingId)
    if b.status == 'held' then
      redis.call('HINCRBY', K_HOLDS, sid, 1)
      redis.call('ZADD', K_EXPIRY, int(b.expiresAt), b.bookingId)
      save(b)
    elseif b.status == 'charging' then
      redis.call('HINCRBY', K_CHARGING, sid, 1)
      save(b)
    else
      b.seq = redis.call('INCR', K_SEQ)
      save(b)
      enqueue(b, urgency(b.critical, b.battery, b.seq))
    end
    restored = restored + 1
  end
end
return cjson.encode({ restored = restored })
