-- purge.lua: delete up to N jobs of one state of a queue (ops: `switchboard purge QUEUE --state S`); call again
-- until it returns 0. Active jobs are never purged (their workers still hold leases).
--
-- KEYS[1] the state's key: ready list, or scheduled / retry / dead / done zset
-- ARGV[1] key prefix   ARGV[2] 'list' or 'zset'   ARGV[3] max jobs to delete in this call
--
-- Returns: how many jobs were deleted.
--
-- Atomically per call: each id leaves the state's key, its hash is deleted, and a unique key pointing at it is released.
local prefix, kind, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ids
if kind == 'list' then
  ids = redis.call('LRANGE', KEYS[1], 0, n - 1)
  if #ids > 0 then redis.call('LTRIM', KEYS[1], #ids, -1) end
else
  ids = redis.call('ZRANGE', KEYS[1], 0, n - 1)
  if #ids > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, #ids - 1) end
end
for _, id in ipairs(ids) do delete_job(prefix, id) end
return #ids
