-- enqueue.lua: store new jobs and make them ready (or scheduled), deciding uniqueness in the same step.
--
-- KEYS[1] ready list        sb:{q}:ready
-- KEYS[2] scheduled zset    sb:{q}:scheduled   (score: run-at, ms)
-- KEYS[3] doorbell list     sb:{q}:doorbell    (wakes workers blocked in BLPOP)
-- KEYS[4] waiters zset      sb:{q}:waiters     KEYS[5] active zset   KEYS[6] paused flag   (direct handoff)
-- ARGV[1] key prefix        sb:{q}:            (job hashes are <prefix>job:<id>, unique keys <prefix>unique:<key>)
-- ARGV[2] number of jobs n, then n groups of 9:
--         id, name, payload, delay_ms, max_attempts, unique_key ('' = none), unique_mode, unique_ttl_ms, options
--         (options: JSON the worker reads back: timeout, backoff; stored verbatim)
--
-- Returns: a flat array of (position, holder id) pairs, one for each job whose unique key is held by a live job (it was
-- not created: its id is the holder's); every other job was created with the id it was given, so a plain bulk call
-- answers an empty array. Ready jobs are pushed with one RPUSH per call, in order.
--
-- Atomically: the unique check and the job's creation happen together (never GET-then-SET across round trips),
-- so concurrent enqueues with one unique key create exactly one job. Then, while workers wait for a handoff, the
-- oldest ready jobs are leased straight to them (hand_off in prelude.lua); the doorbell rings for what is left.
local now = now_ms()
local prefix = ARGV[1]
local n = tonumber(ARGV[2])
local out = {}
local ready_ids = {}
local rang = false
local scheduled = false
for i = 0, n - 1 do
  local b = 3 + i * 9
  local id, name, payload = ARGV[b], ARGV[b + 1], ARGV[b + 2]
  local delay, max_attempts = tonumber(ARGV[b + 3]), ARGV[b + 4]
  local ukey, umode, uttl, options = ARGV[b + 5], ARGV[b + 6], tonumber(ARGV[b + 7]), ARGV[b + 8]
  local existing = false
  if ukey ~= '' then existing = unique_holder(prefix, ukey) end
  if existing then
    out[#out + 1] = i + 1
    out[#out + 1] = existing
  else
    if ukey ~= '' then
      redis.call('SET', prefix .. 'unique:' .. ukey, id, 'PX', uttl)
    end
    create_job(prefix, KEYS[1], KEYS[2], now, id, name, payload, delay, max_attempts, ukey, umode, uttl, options, ready_ids)
    rang = true
    if delay > 0 then scheduled = true end
  end
end
if #ready_ids > 0 then redis.call('RPUSH', KEYS[1], unpack(ready_ids)) end  -- in order, one command per call
if rang then
  hand_off(prefix, KEYS[1], KEYS[5], KEYS[4], KEYS[6], now)
  -- Ring for jobs still ready, and for scheduled ones (a worker's take learns their due time and sets its timer).
  if scheduled or redis.call('LLEN', KEYS[1]) > 0 then ring(KEYS[3]) end
end
return out
