-- complete.lua: finish jobs that succeeded, each only if the caller still holds its lease (one call, many jobs),
-- storing each one's successors (chains, fan-out) in the same step.
--
-- KEYS[1] active zset (leases: '<id>|<token>|<worker id>')     KEYS[2] done zset (kept only when retention > 0)
-- ARGV[1] key prefix      ARGV[2] UTC day (yyyymmdd)   ARGV[3] queue name
-- ARGV[4] done retention: max count (0 = delete each job at once)   ARGV[5] done retention: max age ms
-- ARGV[6] relay grace ms: how long the completing worker has to relay successors for other queues before any
--         worker's outbox sweep may
-- ARGV[7] the completing worker's id
-- ARGV[8..] quadruples: job id, fencing token, successors ('' for none, else a JSON array of successor specs
--           {id, queue, name, payload, delay_ms, max_attempts, options, parent}), unique mode as take returned it
--           ('' when there is no unique key to release)
--
-- Returns: an array with, per job, 1 when completed or 0 when refused because its token is stale (another worker
-- holds a newer lease, or the job is no longer active); refusals are counted in <prefix>stats:stale.
--
-- Atomically per job: the token check (the lease '<id>|<token>|<worker>' is still in 'active'), leaving 'active',
-- releasing its unique key, the processed counter, and its successors: one for this queue becomes a job here (ready
-- or scheduled); one for another queue, whose keys live in another Cluster slot, goes into this queue's outbox
-- (sb:{q}:outbox, sb:{q}:outbox:due), from which relay.lua creates it there exactly once. A refused completion
-- stores no successor.
local now = now_ms()
local prefix, queue = ARGV[1], ARGV[3]
local keep, max_age = tonumber(ARGV[4]), tonumber(ARGV[5])
local grace = tonumber(ARGV[6])
local out = {}
local completed = 0
local rang = false
-- The lease check is the ZREM of the lease itself (one per job: a batch ZMSCORE cost Redis more, formatting each
-- deadline as a double); the DEL is one call for the whole batch; a job's hash is read only when it has a unique key
-- to release. An id twice in one call completes once: its lease is gone by the second.
local worker = ARGV[7]
local deleting = {}
for i = 8, #ARGV, 4 do
  local id, successors, unique = ARGV[i], ARGV[i + 2], ARGV[i + 3]
  local jk = prefix .. 'job:' .. id
  if redis.call('ZREM', KEYS[1], lease_member(id, ARGV[i + 1], worker)) == 0 then
    redis.call('INCR', prefix .. 'stats:stale')
    out[#out + 1] = 0
  else
    if unique ~= '' then
      local u = redis.call('HMGET', jk, 'unique_key', 'unique_mode', 'unique_ttl_ms')
      retire_unique(prefix, id, u[1], u[2], u[3])
    end
    if keep > 0 then
      redis.call('HSET', jk, 'state', 'done', 'finished_ms', int(now))
      redis.call('HINCRBY', jk, 'attempt', '1')  -- the attempt that succeeded
      redis.call('ZADD', KEYS[2], int(now), id)
    else
      deleting[#deleting + 1] = jk
    end
    if successors ~= '' then
      for _, s in ipairs(cjson.decode(successors)) do
        if s.queue == queue then
          create_successor(prefix, queue, prefix .. 'ready', prefix .. 'scheduled', now, s)
          rang = true
        else
          redis.call('HSET', prefix .. 'outbox', s.id, cjson.encode(s))
          redis.call('ZADD', prefix .. 'outbox:due', now + grace, s.id)
        end
      end
    end
    completed = completed + 1
    out[#out + 1] = 1
  end
end
if #deleting > 0 then redis.call('DEL', unpack(deleting)) end
if keep > 0 and completed > 0 then trim_finished(KEYS[2], prefix, now, keep, max_age) end
if completed > 0 then
  local sk = prefix .. 'stats:processed:' .. ARGV[2]
  redis.call('INCRBY', sk, completed)
  redis.call('EXPIRE', sk, 691200)
end
if rang then
  ring(prefix .. 'doorbell')
end
return out
