-- discard.lua: delete a dead job for good (ops: `switchboard discard ID`).
--
-- KEYS[1] dead zset
-- ARGV[1] key prefix  ARGV[2] job id
--
-- Returns: 1 when discarded; 0 when the job is not in the dead set.
--
-- Atomically: the job leaves 'dead', its hash is deleted, and a unique key still pointing at it is released.
local prefix, id = ARGV[1], ARGV[2]
if redis.call('ZREM', KEYS[1], id) == 0 then return 0 end
delete_job(prefix, id)
return 1
