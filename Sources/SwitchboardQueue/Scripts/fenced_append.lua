-- fenced_append.lua: a store that refuses writes from lock holders that lost their lock (the fencing check).
--
-- KEYS[1] list (the store)   KEYS[2] the highest fencing number the store has accepted   KEYS[3] refusal counter
-- ARGV[1] the writer's fencing number   ARGV[2] the value to append
--
-- Returns: 1 when appended; 0 when refused because a writer with a higher fencing number already wrote.
--
-- Atomically: the comparison with the highest number seen, the append, and raising that number.
local fence = tonumber(ARGV[1])
local highest = tonumber(redis.call('GET', KEYS[2]) or '0')
if fence < highest then
  redis.call('INCR', KEYS[3])
  return 0
end
redis.call('SET', KEYS[2], fence)
redis.call('RPUSH', KEYS[1], ARGV[2])
return 1
