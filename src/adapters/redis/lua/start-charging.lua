-- ARGV: prefix, carId, stationId, nowMs, battery ('' when unknown)
local now = tick(tonumber(ARGV[4]))
local b = active_for_car(ARGV[2])
if not b then return cjson.encode({ ok = false, reason = 'no_booking' }) end
if b.status == 'charging' then return cjson.encode({ ok = false, reason = 'already_charging', booking = b }) end
if b.status ~= 'held' then return cjson.encode({ ok = false, reason = 'not_held:' .. b.status, booking = b }) end
if b.stationId ~= ARGV[3] then return cjson.encode({ ok = false, reason = 'wrong_station', booking = b }) end
redis.call('HINCRBY', K_HOLDS, b.stationId, -1)
redis.call('HINCRBY', K_CHARGING, b.stationId, 1)
redis.call('ZREM', K_EXPIRY, b.bookingId)
b.status = 'charging'
b.expiresAt = nil
b.chargingStartedAt = now
b.startBattery = tonumber(ARGV[5])
b.updatedAt = now
save(b)
return outboxed({ ok = true, booking = b, transitions = { { type = 'charging_started', at = now, booking = b } } })