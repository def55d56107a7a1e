-- revive.lua: retry a dead job now, with a fresh attempt budget (ops: `switchboard retry ID`).
--
-- KEYS[1] dead zset   KEYS[2] ready list   KEYS[3] doorbell list
-- ARGV[1] key prefix  ARGV[2] job id
--
-- Returns: 1 when revived; 0 when the job is not in the dead set.
--
-- Atomically: the job leaves 'dead' and joins 'ready' with attempt 0; its error history is kept.
local now = now_ms()
local prefix, id = ARGV[1], ARGV[2]
if redis.call('ZREM', KEYS[1], id) == 0 then return 0 end
redis.call('HSET', prefix .. 'job:' .. id, 'state', 'ready', 'attempt', 0, 'ready_ms', now)
redis.call('HDEL', prefix .. 'job:' .. id, 'finished_ms')
redis.call('RPUSH', KEYS[2], id)
ring(KEYS[3])
return 1
