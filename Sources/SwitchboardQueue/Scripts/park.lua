-- park.lua: hand back a job whose lock is busy or whose concurrency key is full, to wait for a wake-up (wake.lua)
-- rather than poll: it is scheduled `safety` ms out, in case no wake-up comes (the holder died and its hold lapsed).
--
-- KEYS[1] active zset   KEYS[2] ready list   KEYS[3] scheduled zset   KEYS[4] doorbell list
-- ARGV[1] key prefix    ARGV[2] job id       ARGV[3] fencing token    ARGV[4] the worker's id   ARGV[5] safety ms
--
-- Returns: 'parked', 'ready' (a wake-up came between the failed take and this call), or 0 when refused because the
-- token is stale.
--
-- Atomically: the lease check and the hand-back (attempt unused), with the wake-up mark sb:{q}:woken:<id> consumed:
-- a release that happened after the job was listed as a waiter but before it was parked is not lost.
local now = now_ms()
local prefix, id = ARGV[1], ARGV[2]
local woken = redis.call('DEL', prefix .. 'woken:' .. id) == 1
local delay = tonumber(ARGV[5])
if woken then delay = 0 end
if not hand_back(prefix, KEYS[1], KEYS[2], KEYS[3], id, ARGV[3], ARGV[4], delay, now) then
  redis.call('INCR', prefix .. 'stats:stale')
  return 0
end
if woken then
  ring(KEYS[4])
  return 'ready'
end
return 'parked'
