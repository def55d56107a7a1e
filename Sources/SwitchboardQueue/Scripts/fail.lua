-- fail.lua: record a failed attempt; schedule a retry, or move the job to the dead set.
--
-- KEYS[1] active zset (leases)   KEYS[2] retry zset (score: retry-at, ms)     KEYS[3] dead zset (score: died-at, ms)
-- ARGV[1] key prefix      ARGV[2] job id     ARGV[3] fencing token     ARGV[4] error message (no payloads)
-- ARGV[5] retry delay ms, or -1 for "do not retry"                      ARGV[6] UTC day (yyyymmdd)
-- ARGV[7] dead retention: max count          ARGV[8] dead retention: max age ms
-- ARGV[9] the failing worker's id
--
-- Returns: 'retry', 'dead', or 0 when refused because the token is stale (counted in <prefix>stats:stale).
--
-- Atomically: the token check (the lease '<id>|<token>|<worker>' is still in 'active'), leaving 'active', the attempt
-- counted in the job's hash, the error history entry (attempt, time, message; last 20 kept),
-- the failed counter, and either the retry entry or the dead entry with the dead set trimmed to its retention; a dead
-- job that was a join's member leaves a failed arrival for that join in this queue's outbox.
local now = now_ms()
local prefix, id, token = ARGV[1], ARGV[2], ARGV[3]
local jk = prefix .. 'job:' .. id
if redis.call('ZREM', KEYS[1], lease_member(id, token, ARGV[9])) == 0 then
  redis.call('INCR', prefix .. 'stats:stale')
  return 0
end
local f = redis.call('HMGET', jk, 'attempt', 'max_attempts', 'unique_key', 'unique_mode')
local attempt = (tonumber(f[1]) or 0) + 1  -- the attempt that failed
append_error(jk, attempt, now, ARGV[4])
count_day(prefix .. 'stats:failed:' .. ARGV[6])
local delay = tonumber(ARGV[5])
if delay >= 0 and attempt < tonumber(f[2]) then
  redis.call('HSET', jk, 'state', 'retry', 'run_at_ms', int(now + delay), 'attempt', int(attempt))
  redis.call('ZADD', KEYS[2], int(now + delay), id)
  return 'retry'
end
join_member_died(prefix, jk, id, now, ARGV[4])  -- a join waiting for this job ends as failed
redis.call('HSET', jk, 'state', 'dead', 'finished_ms', int(now), 'attempt', int(attempt))
redis.call('ZADD', KEYS[3], int(now), id)
if f[4] ~= 'idempotent' then retire_unique(prefix, id, f[3], f[4], 0) end  -- an idempotent key keeps pointing at the dead job
trim_finished(KEYS[3], prefix, now, tonumber(ARGV[7]), tonumber(ARGV[8]))
return 'dead'
