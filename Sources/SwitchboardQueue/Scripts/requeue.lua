-- requeue.lua: hand an active job back without using up an attempt (graceful shutdown, a busy lock, a rate limit).
--
-- KEYS[1] active zset   KEYS[2] ready list   KEYS[3] scheduled zset   KEYS[4] doorbell list
-- ARGV[1] key prefix    ARGV[2] job id       ARGV[3] fencing token    ARGV[4] delay ms (0: front of ready at once)
--
-- Returns: 1 when handed back; 0 when refused because the token is stale.
--
-- Atomically: the token check, leaving 'active', the attempt count restored, and the job ready (or scheduled).
local now = now_ms()
local prefix, id, token, delay = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local jk = prefix .. 'job:' .. id
if redis.call('HGET', jk, 'token') ~= token or not redis.call('ZSCORE', KEYS[1], id) then
  redis.call('INCR', prefix .. 'stats:stale')
  return 0
end
redis.call('ZREM', KEYS[1], id)
redis.call('HINCRBY', jk, 'attempt', -1)
redis.call('HDEL', jk, 'lease_owner')
if delay > 0 then
  redis.call('HSET', jk, 'state', 'scheduled', 'run_at_ms', now + delay)
  redis.call('ZADD', KEYS[3], now + delay, id)
else
  redis.call('HSET', jk, 'state', 'ready', 'ready_ms', now)
  redis.call('LPUSH', KEYS[2], id)
end
ring(KEYS[4])
return 1
