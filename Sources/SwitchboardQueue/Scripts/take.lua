-- take.lua: lease up to N ready jobs to a worker; first promote due scheduled/retry jobs and reclaim lapsed leases.
--
-- KEYS[1] ready list      KEYS[2] scheduled zset    KEYS[3] retry zset
-- KEYS[4] active zset (member: '<id>|<token>|<worker id>', score: lease deadline, ms)   KEYS[5] dead zset
-- KEYS[6] paused flag (string)
-- KEYS[7] doorbell list (rung again when ready jobs remain, so the next idle worker wakes too)
-- KEYS[8] waiters zset (direct handoff)   KEYS[9] this worker's inbox list, sb:{q}:inbox:<worker id>
-- ARGV[1] key prefix      ARGV[2] max jobs to lease  ARGV[3] lease ms    ARGV[4] worker id
-- ARGV[5] UTC day (yyyymmdd) for the failure counter of jobs that die here
-- ARGV[6] dead retention: max count    ARGV[7] dead retention: max age ms
-- ARGV[8] '1' to wait for a handoff: jobs already handed to this worker's inbox come first; if nothing at all was
--         leased, the worker is registered as a waiter for 3 s (see hand_off in prelude.lua), else unregistered.
--
-- Returns: { wait_ms, job... } where each job is 9 values: id, token, attempt, name, payload, options, ready_ms,
-- collected (a debounced burst's payloads, JSON array; false for other jobs), unique mode ('' when completing the job
-- releases no unique key).
-- wait_ms: how long until the next scheduled/retry job or lease deadline (-1: none); the worker blocks at most that long.
--
-- Atomically, per job: it leaves 'ready' and gets a lease in 'active' under a fencing token higher than any before it
-- (the queue's counter sb:{q}:tokens); its hash is read, not written. A lapsed lease goes back to the front of 'ready'
-- (it counts as an attempt, so a job that kills its worker every time ends in 'dead' rather than looping).
local now = now_ms()
local prefix, want, lease, worker = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]

-- Promote what is due (bounded per call; the rest next call).
for _, z in ipairs({ KEYS[2], KEYS[3] }) do
  local due = redis.call('ZRANGEBYSCORE', z, '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(due) do
    redis.call('ZREM', z, id)
    redis.call('RPUSH', KEYS[1], id)
    redis.call('HSET', prefix .. 'job:' .. id, 'state', 'ready', 'ready_ms', now)
  end
end

-- Reclaim leases that lapsed: their worker stopped heartbeating (crashed, SIGKILLed, frozen).
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 1000)
local reclaim_opts = { day = ARGV[5], dead_max = tonumber(ARGV[6]), dead_age_ms = tonumber(ARGV[7]) }
for _, member in ipairs(lapsed) do
  redis.call('ZREM', KEYS[4], member)
  local id, _, owner = parse_lease(member)
  if id and redis.call('EXISTS', prefix .. 'job:' .. id) == 1 then
    reclaim_job(prefix, { ready = KEYS[1], dead = KEYS[5] }, id, now, 'lease lapsed: worker ' .. owner .. ' stopped heartbeating', reclaim_opts)
  end
end

local out = { -1 }
local taken = 0
local waiting = ARGV[8] == '1'
if waiting then
  -- Handed off before this call (the worker woke for the doorbell instead): already leased to it.
  while taken < want do
    local raw = redis.call('LPOP', KEYS[9])
    if not raw then break end
    local job = cjson.decode(raw)
    for _, v in ipairs(job) do out[#out + 1] = v end
    taken = taken + 1
  end
end
if redis.call('EXISTS', KEYS[6]) == 0 and taken < want then
  -- One LPOP, one INCRBY and one ZADD for the whole batch: per job only the HMGET of its hash. Every lease of the
  -- batch has the same deadline.
  local leases = {}
  local ids = redis.call('LPOP', KEYS[1], want - taken) or {}
  local first = #ids > 0 and next_tokens(prefix, #ids) or 0
  local deadline = int(now + lease)
  for i, id in ipairs(ids) do
    if lease_job(prefix, KEYS[4], id, deadline, worker, first + i - 1, leases, out) then taken = taken + 1 end
  end
  if #leases > 0 then redis.call('ZADD', KEYS[4], unpack(leases)) end
end
if waiting then
  local member = lease .. '|' .. worker
  if taken == 0 and redis.call('EXISTS', KEYS[6]) == 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', now)
    redis.call('ZADD', KEYS[8], now + 3000, member)
  else
    redis.call('ZREM', KEYS[8], member)
  end
end

-- Jobs left over: pass the doorbell on, so another idle worker takes them now rather than at its next timeout.
if redis.call('LLEN', KEYS[1]) > 0 and redis.call('EXISTS', KEYS[6]) == 0 then
  ring(KEYS[7])
end

-- How long may the worker block before something becomes due?
local next_at = nil
for _, z in ipairs({ KEYS[2], KEYS[3], KEYS[4] }) do
  local first = redis.call('ZRANGE', z, 0, 0, 'WITHSCORES')
  if first[2] then
    local at = tonumber(first[2])
    if not next_at or at < next_at then next_at = at end
  end
end
if next_at then out[1] = math.max(0, next_at - now) end
return out
