-- complete.lua: finish a job that succeeded, if the caller still holds its lease.
--
-- KEYS[1] active zset     KEYS[2] done zset (kept only when retention > 0)
-- ARGV[1] key prefix      ARGV[2] job id     ARGV[3] fencing token   ARGV[4] UTC day (yyyymmdd)
-- ARGV[5] done retention: max count (0 = delete the job at once)    ARGV[6] done retention: max age ms
--
-- Returns: 1 when completed; 0 when refused because the token is stale (another worker holds a newer lease, or the
-- job is no longer active): the refusal is counted in <prefix>stats:stale.
--
-- Atomically: the token check, leaving 'active', releasing a unique key, and the processed counter.
local now = now_ms()
local prefix, id, token = ARGV[1], ARGV[2], ARGV[3]
local jk = prefix .. 'job:' .. id
local f = redis.call('HMGET', jk, 'token', 'unique_key', 'unique_mode', 'unique_ttl_ms')
if f[1] ~= token or not redis.call('ZSCORE', KEYS[1], id) then
  redis.call('INCR', prefix .. 'stats:stale')
  return 0
end
redis.call('ZREM', KEYS[1], id)
if f[2] and f[2] ~= '' then
  local uk = prefix .. 'unique:' .. f[2]
  if redis.call('GET', uk) == id then
    if f[3] == 'idempotent' then redis.call('PEXPIRE', uk, f[4]) else redis.call('DEL', uk) end
  end
end
local keep, max_age = tonumber(ARGV[5]), tonumber(ARGV[6])
if keep > 0 then
  redis.call('HSET', jk, 'state', 'done', 'finished_ms', now)
  redis.call('HDEL', jk, 'lease_owner')
  redis.call('ZADD', KEYS[2], now, id)
  trim_finished(KEYS[2], prefix, now, keep, max_age)
else
  redis.call('DEL', jk)
end
count_day(prefix .. 'stats:processed:' .. ARGV[4])
return 1
