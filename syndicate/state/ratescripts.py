"""The Lua scripts of the shared rate limiter (`syndicate.state.ratelimit`): each runs atomically
on the Redis server, on its clock, in one round trip (EVALSHA, loaded once; EVAL after a NOSCRIPT).
"""
from __future__ import annotations

NOW = """
local function fmt(x) return string.format('%.6f', x) end
local now
if ARGV[1] ~= '' then now = tonumber(ARGV[1]) else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

# KEYS: 1-3 pause, pace, next of the account; 4-6 the same of the kind; 7, 8 the
# kind's queue (slots, tail); 9... one log per window. ARGV: 1 now ("" = TIME),
# 2 spacing (0: no queue), 3 burst (seconds of tail a quiet account may run
# ahead), 4 a nonce, 5 the calm this process saw since its last call (1: the
# account's, 2: the kind's, 3: both; `observe`), then (amount, window seconds,
# units) per window.
# Returns "0" when everything was taken, else the seconds to wait (a string:
# Redis truncates Lua numbers). The queue: a caller takes a slot that came due,
# or the next free one while within the burst, else queues for its own future
# slot, so waiters do not all wake at once; one the windows (or a pause) refuse
# is queued after them.
ACQUIRE = NOW + """
local spacing, burst, calm = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
if calm % 2 == 1 then redis.call('DEL', KEYS[2], KEYS[3]) end
if calm >= 2 then redis.call('DEL', KEYS[5], KEYS[6]) end
local keep = math.ceil(spacing * 1000) + 60000
if spacing > 0 then
  local due = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', fmt(now + 0.005), 'LIMIT', 0, 1)
  if due[1] then
    redis.call('ZREM', KEYS[7], due[1])
  else
    local tail = tonumber(redis.call('GET', KEYS[8]) or '0')
    if tail <= now + burst then
      redis.call('SET', KEYS[8], fmt(math.max(tail, now) + spacing), 'PX', keep + math.ceil(burst * 1000))
    else
      local slot, ttl = tail - burst, math.ceil((tail - now) * 1000) + keep
      redis.call('ZADD', KEYS[7], slot, fmt(slot) .. ARGV[4])
      redis.call('SET', KEYS[8], fmt(tail + spacing), 'PX', ttl)
      redis.call('PEXPIRE', KEYS[7], ttl)
      return fmt(slot - now)
    end
  end
end
local wait, gaps = 0, {}
for s = 0, 3, 3 do
  local paused = tonumber(redis.call('GET', KEYS[s + 1]) or '0')
  if paused > now then wait = math.max(wait, paused - now) end
  gaps[s] = tonumber(redis.call('GET', KEYS[s + 2]) or '0')
  if gaps[s] > 0 then
    local nxt = tonumber(redis.call('GET', KEYS[s + 3]) or '0')
    if nxt > now then wait = math.max(wait, nxt - now) end
  end
end
-- the waiters already given a later slot go first: this caller's unit is the one after theirs
local pending = 0
if spacing > 0 then pending = tonumber(redis.call('ZCOUNT', KEYS[7], '(' .. fmt(now + 0.005), '+inf')) end
local tops, stamp = {}, now
for i = 9, #KEYS do
  local j = 5 + (i - 9) * 3
  local amount, window, units = tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3])
  -- a grant exactly one window old has left it (as in ratesql)
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', fmt(now - window))
  local newest = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
  tops[i] = 0
  if newest[1] then
    tops[i] = tonumber(string.match(newest[1], '^%d+'))
    stamp = math.max(stamp, tonumber(newest[2]))  -- TIME may step back: keep the log in order
    local first = redis.call('ZRANGE', KEYS[i], 0, 0)[1]
    local total, size = string.match(first, '^(%d+):(%d+)')
    local base = tonumber(total) - tonumber(size)
    local need = tops[i] - base + units - amount
    if need > 0 then need = need + pending * units end
    local r = 0
    while need > 0 do  -- the grant whose leaving frees `need` units, oldest first
      local batch = redis.call('ZRANGE', KEYS[i], r, r + 31, 'WITHSCORES')
      if #batch == 0 then  -- more waiters than the window holds: after it, in turn
        wait = math.max(wait, window + spacing * (need - (tops[i] - base)) / units, 0.001)
        break
      end
      for k = 1, #batch, 2 do
        if tonumber(string.match(batch[k], '^%d+')) - base >= need then
          wait = math.max(wait, tonumber(batch[k + 1]) + window - now, 0.001)
          need = 0
          break
        end
      end
      r = r + 32
    end
  end
end
if wait > 0 then
  if spacing <= 0 then return fmt(wait) end
  local slot = now + wait
  local tail = tonumber(redis.call('GET', KEYS[8]) or '0')
  if wait >= spacing then  -- else: a moment early for a window, it keeps its place just after
    -- its slot is when its own unit frees (the waiters before it counted above), so waiters
    -- drain as fast as the window frees, each at its own time, never as a herd
    redis.call('SET', KEYS[8], fmt(math.max(tail, slot)), 'PX',
      math.ceil((slot - now + spacing + burst) * 1000) + 60000)
  end
  redis.call('ZADD', KEYS[7], slot, fmt(slot) .. ARGV[4])
  redis.call('PEXPIRE', KEYS[7], math.ceil((slot - now + spacing + burst) * 1000) + 60000)
  return fmt(slot - now)
end
for i = 9, #KEYS do
  local j = 5 + (i - 9) * 3
  local units = tonumber(ARGV[j + 3])
  -- zero-padded: grants of one instant (equal scores) sort by their running total
  redis.call('ZADD', KEYS[i], stamp, string.format('%015d:%d', tops[i] + units, units))
  redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[j + 2]) * 1000))
end
for s = 0, 3, 3 do
  if gaps[s] > 0 then
    local ttl = redis.call('PTTL', KEYS[s + 2])
    if ttl > 0 then redis.call('SET', KEYS[s + 3], fmt(now + gaps[s]), 'PX', ttl) end
  end
end
return '0'
"""

# KEYS: pause, pace, next of one scope; ARGV: now, pause seconds (0: none), gap
# seconds (0: none), seconds until the platform's reset, "1" to stop pacing.
OBSERVE = NOW + """
local pause, gap, reset, calm = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
if pause > 0 and now + pause > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], fmt(now + pause), 'PX', math.ceil(pause * 1000))
end
if gap > 0 then
  local ttl = math.ceil(reset * 1000)
  redis.call('SET', KEYS[2], fmt(gap), 'PX', ttl)
  if now + gap > tonumber(redis.call('GET', KEYS[3]) or '0') then
    redis.call('SET', KEYS[3], fmt(now + gap), 'PX', ttl)
  end
elseif calm == '1' then
  redis.call('DEL', KEYS[2], KEYS[3])
end
return 1
"""

# KEYS[1]: one window's log; ARGV: now, window seconds. Returns {units taken, oldest stamp}.
STATS = NOW + """
local first = redis.call('ZRANGEBYSCORE', KEYS[1], fmt(now - tonumber(ARGV[2])), '+inf', 'LIMIT', 0, 1, 'WITHSCORES')
if not first[1] then return {'0', ''} end
local newest = redis.call('ZRANGE', KEYS[1], -1, -1)[1]
local total, size = string.match(first[1], '^(%d+):(%d+)')
return {tostring(tonumber(string.match(newest, '^%d+')) - tonumber(total) + tonumber(size)), first[2]}
"""
