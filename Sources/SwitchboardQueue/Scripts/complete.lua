-- complete.lua: finish jobs that succeeded, each only if the caller still holds its lease (one call, many jobs).
--
-- KEYS[1] active zset     KEYS[2] done zset (kept only when retention > 0)
-- ARGV[1] key prefix      ARGV[2] UTC day (yyyymmdd)
-- ARGV[3] done retention: max count (0 = delete each job at once)   ARGV[4] done retention: max age ms
-- ARGV[5..] pairs: job id, fencing token
--
-- Returns: an array with, per job, 1 when completed or 0 when refused because its token is stale (another worker
-- holds a newer lease, or the job is no longer active); refusals are counted in <prefix>stats:stale.
--
-- Atomically per job: the token check, leaving 'active', releasing its unique key, and the processed counter.
local now = now_ms()
local prefix = ARGV[1]
local keep, max_age = tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
local completed = 0
for i = 5, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local jk = prefix .. 'job:' .. id
  local f = redis.call('HMGET', jk, 'token', 'unique_key', 'unique_mode', 'unique_ttl_ms')
  if f[1] ~= token or redis.call('ZREM', KEYS[1], id) == 0 then
    redis.call('INCR', prefix .. 'stats:stale')
    out[#out + 1] = 0
  else
    retire_unique(prefix, id, f[2], f[3], f[4])
    if keep > 0 then
      redis.call('HSET', jk, 'state', 'done', 'finished_ms', now)
      redis.call('HDEL', jk, 'lease_owner')
      redis.call('ZADD', KEYS[2], now, id)
    else
      redis.call('DEL', jk)
    end
    completed = completed + 1
    out[#out + 1] = 1
  end
end
if keep > 0 and completed > 0 then trim_finished(KEYS[2], prefix, now, keep, max_age) end
if completed > 0 then
  local sk = prefix .. 'stats:processed:' .. ARGV[2]
  redis.call('INCRBY', sk, completed)
  redis.call('EXPIRE', sk, 691200)
end
return out
