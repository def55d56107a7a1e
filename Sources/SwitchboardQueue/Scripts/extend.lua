-- extend.lua: the heartbeat — push the lease deadline of jobs a worker still runs.
--
-- KEYS[1] active zset
-- ARGV[1] key prefix   ARGV[2] lease ms   then pairs: job id, fencing token
--
-- Returns: the ids whose lease this worker no longer holds (lapsed and reclaimed, or taken over); their handlers
-- should stop, since another worker may already run them.
--
-- Atomically per job: the deadline moves only if the job is still active under the caller's token.
local now = now_ms()
local prefix, lease = ARGV[1], tonumber(ARGV[2])
local lost = {}
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', prefix .. 'job:' .. id, 'token') == token and redis.call('ZSCORE', KEYS[1], id) then
    redis.call('ZADD', KEYS[1], 'XX', now + lease, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
