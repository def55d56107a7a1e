-- wake.lua: wake jobs of one queue that wait for a lock or concurrency key just released (park.lua parked them).
--
-- KEYS[1] scheduled zset   KEYS[2] ready list   KEYS[3] doorbell list
-- ARGV[1] key prefix       ARGV[2..] job ids (from the key's wait list)
--
-- Returns: how many parked jobs were made ready.
--
-- Atomically per job: a wake-up mark sb:{q}:woken:<id> (10 s) for a job not parked yet (park.lua consumes it), and a
-- job still scheduled as parked moves to the front of 'ready'. A job that has since run, finished or gone is left
-- alone; its mark expires.
local now = now_ms()
local prefix = ARGV[1]
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local jk = prefix .. 'job:' .. id
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('HSET', jk, 'state', 'ready', 'ready_ms', int(now))
    redis.call('LPUSH', KEYS[2], id)
    n = n + 1
  elseif redis.call('EXISTS', jk) == 1 then
    redis.call('SET', prefix .. 'woken:' .. id, '1', 'PX', 10000)
  end
end
if n > 0 then ring(KEYS[3]) end
return n
