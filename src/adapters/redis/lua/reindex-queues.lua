-- Run once per namespace when redis-reservations.ts connects. KEYS[15] res:layout (STRING).
-- Builds res:sq (the per-station queues in one key) from res:queue and the queued bookings: before it,
-- each station's queue was its own key res:q:<station>, which the caller then deletes. Derived data
-- only, so no migration step: returns -1 when the layout is already current, else the entries added.
if redis.call('GET', KEYS[15]) == 'sq' then return -1 end
local n = 0
for _, id in ipairs(redis.call('ZRANGE', K_QUEUE, 0, -1)) do
  local b = load(id)
  if b and b.status == 'queued' then
    for _, c in ipairs(b.candidates) do
      redis.call('ZADD', K_SQ, 0, station_member(b, c))
      n = n + 1
    end
  end
end
redis.call('SET', KEYS[15], 'sq')
return n
