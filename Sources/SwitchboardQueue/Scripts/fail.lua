-- fail.lua: record a failed attempt; schedule a retry, or move the job to the dead set.
--
-- KEYS[1] active zset     KEYS[2] retry zset (score: retry-at, ms)     KEYS[3] dead zset (score: died-at, ms)
-- ARGV[1] key prefix      ARGV[2] job id     ARGV[3] fencing token     ARGV[4] error message (no payloads)
-- ARGV[5] retry delay ms, or -1 for "do not retry"                      ARGV[6] UTC day (yyyymmdd)
-- ARGV[7] dead retention: max count          ARGV[8] dead retention: max age ms
--
-- Returns: 'retry', 'dead', or 0 when refused because the token is stale (counted in <prefix>stats:stale).
--
-- Atomically: the token check, leaving 'active', the error history entry (attempt, time, message; last 20 kept),
-- the failed counter, and either the retry entry or the dead entry with the dead set trimmed to its retention.
local now = now_ms()
local prefix, id, token = ARGV[1], ARGV[2], ARGV[3]
local jk = prefix .. 'job:' .. id
local f = redis.call('HMGET', jk, 'token', 'attempt', 'max_attempts', 'unique_key', 'unique_mode')
if f[1] ~= token or not redis.call('ZSCORE', KEYS[1], id) then
  redis.call('INCR', prefix .. 'stats:stale')
  return 0
end
redis.call('ZREM', KEYS[1], id)
append_error(jk, f[2], now, ARGV[4])
redis.call('HDEL', jk, 'lease_owner')
count_day(prefix .. 'stats:failed:' .. ARGV[6])
local delay = tonumber(ARGV[5])
if delay >= 0 and tonumber(f[2]) < tonumber(f[3]) then
  redis.call('HSET', jk, 'state', 'retry', 'run_at_ms', now + delay)
  redis.call('ZADD', KEYS[2], now + delay, id)
  return 'retry'
end
redis.call('HSET', jk, 'state', 'dead', 'finished_ms', now)
redis.call('ZADD', KEYS[3], now, id)
if f[5] ~= 'idempotent' then retire_unique(prefix, id, f[4], f[5], 0) end  -- an idempotent key keeps pointing at the dead job
trim_finished(KEYS[3], prefix, now, tonumber(ARGV[7]), tonumber(ARGV[8]))
return 'dead'
