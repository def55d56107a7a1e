-- semaphore.lua: take, extend or release one of the `limit` slots of a per-key concurrency limit.
--
-- KEYS[1] holders   sb:{conc:<key>}:holders  (zset: owner token → when its hold lapses, ms on the server's clock)
-- KEYS[2] waiters   sb:{conc:<key>}:waiters  (list of '<queue>|<job id>' waiting for a slot; optional)
-- ARGV[1] 'acquire', 'extend', 'release' or 'release-and-wake'   ARGV[2] owner token   ARGV[3] TTL ms (acquire, extend)
-- ARGV[4] limit (acquire): how many owners may hold a slot at once
-- ARGV[5] acquire only, optional: the waiter '<queue>|<job id>' to list when every slot is held
--
-- Returns: acquire → 1 when the owner holds a slot (already holding one extends it), 0 when all slots are held;
--          extend / release → 1 when this owner held a live slot, else 0;
--          release-and-wake → { 1 or 0 as release, then the waiters taken off the list (up to 50) }.
--
-- Atomically: lapsed holds are dropped, the count checked and the slot taken in one step, so concurrent acquires
-- never hand out more than `limit` slots; a holder that crashed frees its slot when its TTL passes, with no sweeper.
-- The key itself expires once the last hold would have lapsed.
local now = now_ms()
local op, owner = ARGV[1], ARGV[2]
local ttl = tonumber(ARGV[3])

local function hold()
  redis.call('ZADD', KEYS[1], now + ttl, owner)
  if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
end

if op == 'acquire' then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZSCORE', KEYS[1], owner) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
    hold()
    return 1
  end
  add_waiter(KEYS[2], ARGV[5])
  return 0
elseif op == 'extend' then
  local until_ms = redis.call('ZSCORE', KEYS[1], owner)
  if until_ms and tonumber(until_ms) > now then hold(); return 1 end
  return 0
elseif op == 'release' or op == 'release-and-wake' then
  local released = redis.call('ZREM', KEYS[1], owner)
  if op == 'release' then return released end
  local out = { released }
  for _, w in ipairs(take_waiters(KEYS[2])) do out[#out + 1] = w end
  return out
end
return redis.error_reply('semaphore.lua: unknown operation ' .. tostring(op))
