-- ARGV: prefix, nowMs, carIds JSON. Cars without an active booking are ignored.
local now = tick(tonumber(ARGV[2]))
for _, carId in ipairs(cjson.decode(ARGV[3])) do
  local b = active_for_car(carId)
  if b then
    b.lastSeenAt = now
    save(b)
    redis.call('ZADD', K_SEEN, int(now), b.bookingId)
  end
end
return '{}'
