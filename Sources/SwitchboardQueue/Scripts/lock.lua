-- lock.lua: take, extend or release a distributed lock; every take gets a fencing number.
--
-- KEYS[1] holder   sb:{lock:<key>}:holder  (string: the owner's token, with the lock's TTL)
-- KEYS[2] fence    sb:{lock:<key>}:fence   (counter: the last fencing number handed out; never expires)
-- KEYS[3] waiters  sb:{lock:<key>}:waiters (list of '<queue>|<job id>' waiting for the lock; optional)
-- ARGV[1] 'acquire', 'extend', 'release' or 'release-and-wake'   ARGV[2] owner token   ARGV[3] TTL ms (acquire, extend)
-- ARGV[4] acquire only, optional: the waiter '<queue>|<job id>' to list when the lock is busy
--
-- Returns: acquire → the fencing number (1, 2, 3, … strictly increasing per key) or 0 when another owner holds it
--          (the same owner acquiring again extends and gets its current number);
--          extend / release → 1 when this owner held the lock, else 0;
--          release-and-wake → { 1 or 0 as release, then the waiters taken off the list (up to 50) }.
--
-- Atomically: compare-and-set-if-absent with the counter's increment, compare-and-extend, compare-and-delete; an owner
-- can never extend or release a lock another owner holds; a busy acquire lists its waiter in the same step.
local holder = redis.call('GET', KEYS[1])
local op, owner = ARGV[1], ARGV[2]
if op == 'acquire' then
  if not holder then
    local fence = redis.call('INCR', KEYS[2])
    redis.call('SET', KEYS[1], owner, 'PX', ARGV[3])
    return fence
  elseif holder == owner then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return tonumber(redis.call('GET', KEYS[2]))
  end
  add_waiter(KEYS[3], ARGV[4])
  return 0
elseif op == 'extend' then
  if holder == owner then redis.call('PEXPIRE', KEYS[1], ARGV[3]); return 1 end
  return 0
elseif op == 'release' or op == 'release-and-wake' then
  local released = 0
  if holder == owner then redis.call('DEL', KEYS[1]); released = 1 end
  if op == 'release' then return released end
  local out = { released }
  for _, w in ipairs(take_waiters(KEYS[3])) do out[#out + 1] = w end
  return out
end
return redis.error_reply('lock.lua: unknown operation ' .. tostring(op))
