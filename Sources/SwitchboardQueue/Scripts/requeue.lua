-- requeue.lua: hand an active job back without using up an attempt (graceful shutdown, a busy lock, a rate limit).
--
-- KEYS[1] active zset   KEYS[2] ready list   KEYS[3] scheduled zset   KEYS[4] doorbell list
-- ARGV[1] key prefix    ARGV[2] job id       ARGV[3] fencing token    ARGV[4] delay ms (0: front of ready at once)
-- ARGV[5] the worker's id
--
-- Returns: 1 when handed back; 0 when refused because the token is stale.
--
-- Atomically: the token check (the lease is still in 'active'), leaving 'active', and the job ready (or scheduled);
-- its attempt count is as it was before the lease.
local now = now_ms()
local prefix, id, token, delay = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if not hand_back(prefix, KEYS[1], KEYS[2], KEYS[3], id, token, ARGV[5], delay, now) then
  redis.call('INCR', prefix .. 'stats:stale')
  return 0
end
ring(KEYS[4])
return 1
