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
local prefix, queue, id = ARGV[1], ARGV[2], ARGV[3]
local window, max_wait = tonumber(ARGV[8]), tonumber(ARGV[9])
local pending = redis.call('HMGET', KEYS[2], 'id', 'first_ms')
if pending[1] and redis.call('ZSCORE', KEYS[1], pending[1]) then
  local run_at = math.min(now + window, tonumber(pending[2]) + max_wait)
  redis.call('ZADD', KEYS[1], run_at, pending[1])
  local jk = prefix .. 'job:' .. pending[1]
  redis.call('HSET', jk, 'payload', ARGV[5], 'run_at_ms', run_at, 'ready_ms', run_at)
  local c = redis.call('HMGET', jk, 'collected', 'collected_n')
  if c[1] and tonumber(c[2]) < 1000 then
    redis.call('HSET', jk, 'collected', string.sub(c[1], 1, -2) .. ',' .. ARGV[5] .. ']', 'collected_n', tonumber(c[2]) + 1)
  end
  return { pending[1], 0 }
end
create_job(prefix, queue, '', KEYS[1], now, id, ARGV[4], ARGV[5], math.min(window, max_wait), ARGV[6], '', '', 0, ARGV[7])
if ARGV[10] == '1' then
  redis.call('HSET', prefix .. 'job:' .. id, 'collected', '[' .. ARGV[5] .. ']', 'collected_n', 1)
end
redis.call('HSET', KEYS[2], 'id', id, 'first_ms', now)
ring(prefix .. 'doorbell')  -- a worker's take learns the due time and sets its timer
redis.call('PEXPIRE', KEYS[2], max_wait + 60000)
return { id, 1 }
