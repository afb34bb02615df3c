-- Writes many car hashes in one command (FleetState.upsertCars).
-- KEYS: the car hashes, in batch order. ARGV, 6 per key: lat, lon, battery, velocity, timestamp,
-- state prefixed with '=' ('' when the update carries none: the stored state is kept).
-- In order, so a car listed twice ends with its last state, as with one HSET after another.
-- ARGV after the cars' fields: the idle TTL in seconds (0: the hash never expires). Each update
-- pushes the expiry back, so a car that stops reporting is forgotten after the TTL.
local ttl = tonumber(ARGV[#KEYS * 6 + 1] or '0') or 0
for i, key in ipairs(KEYS) do
  local o = (i - 1) * 6
  redis.call('HSET', key, 'lat', ARGV[o + 1], 'lon', ARGV[o + 2], 'battery', ARGV[o + 3], 'velocity', ARGV[o + 4], 'timestamp', ARGV[o + 5])
  local state = ARGV[o + 6]
  if state ~= '' then redis.call('HSET', key, 'state', string.sub(state, 2)) end
  if ttl > 0 then redis.call('EXPIRE', key, ttl) end
end
return #KEYS
