-- Shared prelude of every reservations script (prepended by redis-reservations.ts).
-- KEYS (fixed, prefixed by the client's keyPrefix):
--   1 res:stations  HASH stationId -> ports
--   2 res:holds     HASH stationId -> active holds
--   3 res:charging  HASH stationId -> charging sessions
--   4 res:bookings  HASH bookingId -> booking JSON
--   5 res:cars      HASH carId -> active bookingId (held | queued | charging)
--   6 res:expiry    ZSET bookingId -> expiresAt (held bookings only)
--   7 res:queue     ZSET bookingId -> urgency score (all queued bookings, service order)
--   8 res:seq       STRING enqueue sequence (ties in the queue go to the longest waiting)
--   9 res:clock     STRING monotonic clock (max now seen), so transitions are ordered in time
--  10 res:ended     ZSET bookingId -> endedAt (finished bookings, pruned after the retention)
--  11 res:seen      ZSET bookingId -> when its car was last seen (active bookings only; expire-stale.lua)
--  12 res:qfirst    HASH stationId -> queued cars whose best candidate it is (each queued car counted once)
--  13 res:outbox    STREAM field t = transition JSON (or e = event JSON), o = origin (when known):
--                  what the relay publishes to Kafka
--  14 res:sq        ZSET, every score 0: the per-station queues in one key, ordered by member
--                  "<stationId>\0<station score, 16 digits>\0<bookingId>" (station_member below), so a
--                  station's head is the first member from "<stationId>\0" (ZRANGEBYLEX). One declared
--                  key instead of a key per station built here: a Redis Cluster only lets a script touch
--                  the keys it declares, and promotions reach stations not known before the script runs.
-- Every key is declared and, on a Redis Cluster, shares the namespace's hash tag (client.ts), so one slot.
-- ARGV[1] is the caller's context, "<prefix>|<origin>" (the runner in redis-reservations.ts builds it):
--   prefix  the namespace prefix (unused since no key is built here; namespaces match [a-z0-9_]*,
--           so the first '|' always ends it).
--   origin  the instance that runs the script (the deciding coordinator; "" when unnamed): written to
--           each outbox entry as field o, so the published event names the decider, not the relay.
-- The script's own arguments follow from ARGV[2], as before.
local K_STATIONS, K_HOLDS, K_CHARGING, K_BOOKINGS = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_CARS, K_EXPIRY, K_QUEUE, K_SEQ, K_CLOCK, K_ENDED = KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local K_SEEN, K_QFIRST, K_OUTBOX, K_SQ = KEYS[11], KEYS[12], KEYS[13], KEYS[14]
local CTX_SEP = string.find(ARGV[1], '|', 1, true)
local ORIGIN = CTX_SEP and string.sub(ARGV[1], CTX_SEP + 1) or ''

local function int(n) return string.format('%.0f', n) end

local function tick(now)
  local last = tonumber(redis.call('GET', K_CLOCK) or '0')
  if now > last then
    redis.call('SET', K_CLOCK, int(now))
    return now
  end
  return last
end

local function load(id)
  local raw = redis.call('HGET', K_BOOKINGS, id)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function save(b) redis.call('HSET', K_BOOKINGS, b.bookingId, cjson.encode(b)) end

local function used(sid)
  return tonumber(redis.call('HGET', K_HOLDS, sid) or '0') + tonumber(redis.call('HGET', K_CHARGING, sid) or '0')
end

local function ports(sid)
  local p = redis.call('HGET', K_STATIONS, sid)
  if not p then return nil end
  return tonumber(p)
end

-- Mirrors urgencyRank() in src/ports/reservations.ts: rank * 2^37 + seq stays exact in a double.
local function urgency(critical, battery, seq)
  local pct = math.min(100, math.max(0, battery))
  local rank = (critical and 0 or 10001) + math.floor(pct * 100 + 0.5)
  return rank * 137438953472 + seq
end

-- Mirrors stationQueueScore() in src/ports/reservations.ts: a freed port goes to the queued car that
-- arrives soonest (queued time + 4 x drive + 2 min per battery point - 10 days when critical, so critical cars come first), ties by seq.
local function station_score(b, c)
  local pct = math.min(100, math.max(0, b.battery))
  local lead = 0
  if b.critical then lead = 864000000 end
  local ready = math.floor((b.queuedAt + 4 * (c.driveMs or 0) + pct * 120000 - lead) / 1000 + 0.5)
  return ready * 2097152 + (b.seq % 2097152)
end

-- A station queue entry in res:sq. The score is offset by 2^50 so that every score the clock can give
-- (negative ones too: a critical car's lead of 10 days on a clock near 0) is a positive number of at
-- most 16 digits, exact in a double: fixed width, so byte order is score order, then bookingId.
local SQ_OFFSET = 1125899906842624
local function station_member(b, c)
  return c.stationId .. '\0' .. string.format('%016.0f', station_score(b, c) + SQ_OFFSET) .. '\0' .. b.bookingId
end

-- The first (most urgent) entry of a station's queue, and the booking it names.
local function station_head(sid)
  local head = redis.call('ZRANGEBYLEX', K_SQ, '[' .. sid .. '\0', '(' .. sid .. '\1', 'LIMIT', 0, 1)
  if #head == 0 then return nil, nil end
  local first = string.find(head[1], '\0', 1, true)
  local second = string.find(head[1], '\0', first + 1, true)
  return head[1], string.sub(head[1], second + 1)
end

-- Leaves every station queue of b (scored as b stands now: call before changing its battery).
local function station_unqueue(b)
  for _, c in ipairs(b.candidates) do redis.call('ZREM', K_SQ, station_member(b, c)) end
end

local function hold(b, sid, holdMs, now)
  redis.call('HINCRBY', K_HOLDS, sid, 1)
  b.status = 'held'
  b.stationId = sid
  b.confirmedAt = now
  b.expiresAt = now + holdMs
  b.updatedAt = now
  save(b)
  redis.call('ZADD', K_EXPIRY, int(b.expiresAt), b.bookingId)
end

-- The station a queued car is counted at (station-status.lua): its best candidate.
local function first_station(b) return b.candidates[1] and b.candidates[1].stationId end

local function dequeue(b)
  local removed = redis.call('ZREM', K_QUEUE, b.bookingId)
  local sid = first_station(b)
  if removed == 1 and sid and tonumber(redis.call('HGET', K_QFIRST, sid) or '0') > 0 then redis.call('HINCRBY', K_QFIRST, sid, -1) end
  station_unqueue(b)
end

-- Also re-scores a car already queued (a retry refreshes its urgency: station_unqueue first) without counting it twice.
-- The global queue is in urgency order; each station's queue in its own promotion order (station_score).
local function enqueue(b, score)
  local added = redis.call('ZADD', K_QUEUE, int(score), b.bookingId)
  local sid = first_station(b)
  if added == 1 and sid then redis.call('HINCRBY', K_QFIRST, sid, 1) end
  for _, c in ipairs(b.candidates) do redis.call('ZADD', K_SQ, 0, station_member(b, c)) end
end

-- Ends an active booking; returns the station whose port it freed (nil when it was only queued).
local function finish(b, status, now, reason)
  local freed = nil
  if b.status == 'held' then
    redis.call('HINCRBY', K_HOLDS, b.stationId, -1)
    freed = b.stationId
  elseif b.status == 'charging' then
    redis.call('HINCRBY', K_CHARGING, b.stationId, -1)
    freed = b.stationId
  elseif b.status == 'queued' then
    dequeue(b)
  end
  redis.call('ZREM', K_EXPIRY, b.bookingId)
  redis.call('ZREM', K_SEEN, b.bookingId)
  if redis.call('HGET', K_CARS, b.carId) == b.bookingId then redis.call('HDEL', K_CARS, b.carId) end
  b.status = status
  b.expiresAt = nil
  b.endedAt = now
  b.updatedAt = now
  b.endReason = reason
  save(b)
  redis.call('ZADD', K_ENDED, int(now), b.bookingId)
  return freed
end

-- Gives every free port at sid to the most urgent queued car that can reach it.
local function promote_at(sid, now, out)
  local p = ports(sid)
  if not p then return end
  while used(sid) < p do
    local member, id = station_head(sid)
    if not member then return end
    local b = load(id)
    if not b or b.status ~= 'queued' then
      redis.call('ZREM', K_SQ, member) -- stale entry: never loop on it
    else
      dequeue(b)
      local holdMs = b.holdMs
      for _, c in ipairs(b.candidates) do
        if c.stationId == sid and c.holdMs then holdMs = c.holdMs end
      end
      hold(b, sid, holdMs, now)
      table.insert(out, { type = 'confirmed', at = now, booking = b, promoted = true })
    end
  end
end

local function end_and_promote(b, status, now, reason, out)
  local kind = status
  if status == 'completed' then kind = 'charging_completed' end
  local freed = finish(b, status, now, reason)
  table.insert(out, { type = kind, at = now, booking = b })
  if freed then promote_at(freed, now, out) end
end

local function active_for_car(carId)
  local id = redis.call('HGET', K_CARS, carId)
  if not id then return nil end
  return load(id)
end

-- The outbox: each transition a script returns is appended in the same script (one atomic step),
-- so a transition can be neither lost nor published without its change, with the deciding instance
-- (ORIGIN) beside it. Returns the encoded result.
local function outboxed(result)
  if type(result.transitions) == 'table' then
    for _, t in ipairs(result.transitions) do
      if ORIGIN == '' then redis.call('XADD', K_OUTBOX, '*', 't', cjson.encode(t))
      else redis.call('XADD', K_OUTBOX, '*', 't', cjson.encode(t), 'o', ORIGIN) end
    end
  end
  return cjson.encode(result)
end
