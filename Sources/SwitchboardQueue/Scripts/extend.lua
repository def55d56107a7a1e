-- extend.lua: the heartbeat — push the lease deadline of jobs a worker still runs.
--
-- KEYS[1] active zset (leases: '<id>|<token>|<worker id>', score: deadline ms)
-- ARGV[1] lease ms   ARGV[2] the worker's id   then pairs: job id, fencing token
--
-- Returns: the ids whose lease this worker no longer holds (lapsed and reclaimed, or taken over); their handlers
-- should stop, since another worker may already run them.
--
-- Atomically per job: the deadline moves only if the caller's lease is still in 'active'.
local deadline = int(now_ms() + tonumber(ARGV[1]))
local worker = ARGV[2]
local lost = {}
for i = 3, #ARGV, 2 do
  local member = lease_member(ARGV[i], ARGV[i + 1], worker)
  if redis.call('ZSCORE', KEYS[1], member) then
    redis.call('ZADD', KEYS[1], 'XX', deadline, member)
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
