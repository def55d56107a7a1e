-- debounce.lua: enqueue with a debounce key: a burst of enqueues becomes one job, run once the burst goes quiet.
--
-- KEYS[1] scheduled zset   KEYS[2] the key's record, hash sb:{q}:debounce:<key> (id: the pending job, first_ms)
-- ARGV[1] key prefix   ARGV[2] queue name   ARGV[3] new job id (used when no job is pending)   ARGV[4] job name
-- ARGV[5] payload      ARGV[6] max attempts ARGV[7] options JSON   ARGV[8] window ms   ARGV[9] max wait ms
-- ARGV[10] '1' to collect: the job also keeps every payload of its burst, in order, as the JSON array in its
--          'collected' field (at most 1,000; later ones still move the run time and become the payload)
--
-- Returns: { job id, 1 if this call created the job or 0 if it joined a pending one }.
--
-- Atomically: if a job for the key is still scheduled (not yet run), it takes these parameters and its run time moves
-- to now + window, but never past its first enqueue + max wait; otherwise a new job is scheduled at now + window.
-- Concurrent enqueues with one key therefore make one job per quiet period.
local now = now_ms()
-- The key itself is KEYS[2] past '<prefix>debounce:'.
local made = debounce_job(ARGV[1], ARGV[2], KEYS[1], now, ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], string.sub(KEYS[2], #ARGV[1] + 10),
  tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10] == '1')
if made[2] then
  ring(ARGV[1] .. 'doorbell')  -- a worker's take learns the due time and sets its timer
  return { made[1], 1 }
end
return { made[1], 0 }
