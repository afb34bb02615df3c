-- ARGV: prefix, bookingId, carId, nowMs, holdMs, battery, critical (1|0), candidates JSON [{stationId, score, holdMs?}],
--       queue (1|0: 0 = fail with no_free_port instead of queueing, keeping nothing; ReserveRequest.queue)
local bookingId, carId = ARGV[2], ARGV[3]
local now = tick(tonumber(ARGV[4]))
local holdMs, battery, critical = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7] == '1'

local existing = load(bookingId)
if existing then
  if existing.status == 'held' then
    return cjson.encode({ status = 'confirmed', stationId = existing.stationId, expiresAt = existing.expiresAt, booking = existing, replayed = true })
  elseif existing.status == 'queued' then
    -- A retry while queued refreshes the car's urgency (its battery keeps draining), keeping its place in time.
    station_unqueue(existing)
    existing.battery = battery
    existing.critical = critical
    save(existing)
    enqueue(existing, urgency(critical, battery, existing.seq))
    local rank = redis.call('ZRANK', K_QUEUE, bookingId)
    return cjson.encode({ status = 'queued', position = rank + 1, booking = existing, replayed = true })
  end
  return cjson.encode({ status = 'duplicate', existing = existing })
end

local active = active_for_car(carId)
if active then return cjson.encode({ status = 'duplicate', existing = active }) end

local candidates = {}
for _, c in ipairs(cjson.decode(ARGV[8])) do
  if ports(c.stationId) then table.insert(candidates, c) end
end
if #candidates == 0 then return cjson.encode({ status = 'failed', reason = 'no_known_station' }) end

local free = nil
for _, c in ipairs(candidates) do
  if used(c.stationId) < ports(c.stationId) then free = c break end
end
if not free and ARGV[9] == '0' then return cjson.encode({ status = 'failed', reason = 'no_free_port' }) end

local b = { bookingId = bookingId, carId = carId, status = 'queued', candidates = candidates, holdMs = holdMs,
  battery = battery, critical = critical, createdAt = now, updatedAt = now, lastSeenAt = now }
redis.call('HSET', K_CARS, carId, bookingId)
redis.call('ZADD', K_SEEN, int(now), bookingId)

if free then
  hold(b, free.stationId, free.holdMs or holdMs, now)
  local t = { type = 'confirmed', at = now, booking = b, promoted = false }
  return outboxed({ status = 'confirmed', stationId = b.stationId, expiresAt = b.expiresAt, booking = b, replayed = false, transitions = { t } })
end

b.seq = redis.call('INCR', K_SEQ)
b.queuedAt = now
save(b)
enqueue(b, urgency(critical, battery, b.seq))
local position = redis.call('ZRANK', K_QUEUE, bookingId) + 1
local t = { type = 'queued', at = now, booking = b, position = position }
return outboxed({ status = 'queued', position = position, booking = b, replayed = false, transitions = { t } })