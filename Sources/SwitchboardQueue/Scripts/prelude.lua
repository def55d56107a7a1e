-- prelude.lua: helpers prepended to every queue script when it is loaded (QueueScripts.swift).
-- Touches no keys by itself.

-- The server's clock in milliseconds: one clock for every worker, whatever their own clocks say.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- An integer as a string, for redis.call. Redis turns a Lua number argument into text with printf's '%.17g', a
-- floating-point conversion that costs more than the command it feeds (docs/benchmarks.md has the profile);
-- string.format's '%d' converts through a C long, without the floating-point path.
local function int(n)
  return string.format('%d', n)
end

-- A lease is one member of 'active': '<job id>|<fencing token>|<worker id>', scored by its deadline. Only the holder
-- of that exact lease can name it, so removing (or finding) the member is the fencing check: a stale token names
-- nothing. The job's hash is not written when it is leased; it keeps the state the job was leased from ('ready').
local function lease_member(id, token, worker)
  return id .. '|' .. token .. '|' .. worker
end

-- The job id, fencing token and worker id of a member of 'active' (nil for a member of another shape).
local function parse_lease(member)
  return string.match(member, '^([^|]+)|(%d+)|(.*)$')
end

-- Fencing tokens for n new leases from the queue's counter (sb:{q}:tokens), so every lease of a job has a higher
-- token than the one before. Returns the first of n consecutive tokens.
local function next_tokens(prefix, n)
  return redis.call('INCRBY', prefix .. 'tokens', int(n)) - n + 1
end

-- Rings a queue's doorbell (a list workers block on), keeping at most 64 tokens.
local function ring(doorbell)
  redis.call('LPUSH', doorbell, '1')
  redis.call('LTRIM', doorbell, '0', '63')
end

-- Appends {attempt, at_ms, message} to a job's error history, keeping the last 20.
local function append_error(job_key, attempt, at_ms, message)
  local raw = redis.call('HGET', job_key, 'errors')
  local list = {}
  if raw then list = cjson.decode(raw) end
  list[#list + 1] = { attempt = tonumber(attempt) or 0, at_ms = at_ms, message = message }
  while #list > 20 do table.remove(list, 1) end
  redis.call('HSET', job_key, 'errors', cjson.encode(list))
end

-- Releases the unique key of a job that is finishing or being deleted, if the key still points at it. An idempotent
-- job's key is not deleted but turned into a record 'done:<id>' kept for its TTL, which answers duplicate enqueues
-- with the first job's id even after the job's hash is gone (and tells ops `check` it is not a dangling key).
local function retire_unique(prefix, id, ukey, umode, ttl_ms)
  if not ukey or ukey == '' then return end
  local uk = prefix .. 'unique:' .. ukey
  if redis.call('GET', uk) ~= id then return end
  if umode == 'idempotent' then
    redis.call('SET', uk, 'done:' .. id, 'PX', math.max(1, tonumber(ttl_ms) or 1))
  else
    redis.call('DEL', uk)
  end
end

-- Trims a zset of finished jobs (done or dead, scored by time) to max_count entries no older than max_age_ms,
-- deleting the trimmed jobs' hashes.
local function trim_finished(zset, prefix, now, max_count, max_age_ms)
  local old = redis.call('ZRANGEBYSCORE', zset, '-inf', now - max_age_ms, 'LIMIT', 0, 1000)
  local extra = redis.call('ZCARD', zset) - #old - max_count
  if extra > 0 then
    for _, o in ipairs(redis.call('ZRANGE', zset, #old, #old + extra - 1)) do old[#old + 1] = o end
  end
  for _, o in ipairs(old) do
    redis.call('ZREM', zset, o)
    local jk = prefix .. 'job:' .. o
    local u = redis.call('HMGET', jk, 'unique_key', 'unique_mode', 'unique_ttl_ms')
    retire_unique(prefix, o, u[1], u[2], u[3])
    redis.call('DEL', jk)
  end
end

-- Adds one to a per-day counter kept for 8 days.
local function count_day(key)
  redis.call('INCR', key)
  redis.call('EXPIRE', key, 691200)
end

-- Deletes a job's hash and releases its unique key if the key still points at it.
local function delete_job(prefix, id)
  local jk = prefix .. 'job:' .. id
  local ukey = redis.call('HGET', jk, 'unique_key')
  if ukey and ukey ~= '' and redis.call('GET', prefix .. 'unique:' .. ukey) == id then
    redis.call('DEL', prefix .. 'unique:' .. ukey)
  end
  redis.call('DEL', jk)
end

-- A member of a join died (fail.lua, or a lapsed lease out of attempts): a failed arrival for the join goes into this
-- queue's outbox, due at once, for a worker's sweep to relay to the join's queue (another slot, perhaps). Jobs that
-- are no join's member (no '"join"' in their options) cost one HGET.
local function join_member_died(prefix, jk, id, now, reason)
  local options = redis.call('HGET', jk, 'options')
  if not options or not string.find(options, '"join"', 1, true) then return end
  local j = cjson.decode(options).join
  if type(j) ~= 'table' then return end
  local aid = j.id .. ':' .. id
  redis.call('HSET', prefix .. 'outbox', aid, cjson.encode({ kind = 'arrive', id = aid, queue = j.queue, join = j.id, member = id,
    n = j.n, index = j.index, failed = true, reason = string.sub(reason or '', 1, 300), parent = id }))
  redis.call('ZADD', prefix .. 'outbox:due', int(now), aid)
end

-- Puts an active job whose lease holder is gone back at the front of 'ready' (the caller has removed its lease from
-- 'active'). The lost attempt counts: a job out of attempts goes to 'dead' instead, so a job that kills its worker
-- every time ends there rather than looping. keys = { ready = , dead = }; opts = { day =, dead_max =, dead_age_ms = }.
-- Returns 'ready' or 'dead'.
local function reclaim_job(prefix, keys, id, now, reason, opts)
  local jk = prefix .. 'job:' .. id
  local f = redis.call('HMGET', jk, 'attempt', 'max_attempts', 'unique_key', 'unique_mode', 'unique_ttl_ms')
  local attempt = (tonumber(f[1]) or 0) + 1  -- the attempt that lapsed
  append_error(jk, attempt, now, reason)
  redis.call('INCR', prefix .. 'stats:reclaimed')
  if attempt >= tonumber(f[2]) then
    join_member_died(prefix, jk, id, now, reason)
    redis.call('HSET', jk, 'state', 'dead', 'finished_ms', int(now), 'attempt', int(attempt))
    redis.call('ZADD', keys.dead, now, id)
    count_day(prefix .. 'stats:failed:' .. opts.day)
    if f[4] ~= 'idempotent' then retire_unique(prefix, id, f[3], f[4], f[5]) end
    trim_finished(keys.dead, prefix, now, opts.dead_max, opts.dead_age_ms)
    return 'dead'
  end
  redis.call('HSET', jk, 'state', 'ready', 'ready_ms', int(now), 'attempt', int(attempt))
  redis.call('LPUSH', keys.ready, id)
  return 'ready'
end

-- Stores a new job's hash and puts its id in 'ready' (delay_ms 0) or 'scheduled' (run at now + delay_ms). With
-- `ready_ids` (a table), a ready job's id is appended to it instead, for one RPUSH by the caller. The hash holds what
-- workers and ops read; the id and queue are in its key, and the unique fields are written only for a unique job (a
-- missing field reads as false, which every reader takes as "no key").
local function create_job(prefix, ready_key, scheduled_key, now, id, name, payload, delay_ms, max_attempts, ukey, umode, uttl, options, ready_ids)
  local created = int(now)
  local state, at = 'ready', created
  if delay_ms > 0 then
    state, at = 'scheduled', int(now + delay_ms)
    redis.call('ZADD', scheduled_key, at, id)
  elseif ready_ids then
    ready_ids[#ready_ids + 1] = id
  else
    redis.call('RPUSH', ready_key, id)
  end
  local jk = prefix .. 'job:' .. id
  if ukey ~= '' then
    redis.call('HSET', jk, 'name', name, 'payload', payload, 'state', state, 'attempt', '0', 'max_attempts', max_attempts,
      'created_ms', created, 'run_at_ms', at, 'ready_ms', at, 'options', options,
      'unique_key', ukey, 'unique_mode', umode, 'unique_ttl_ms', int(uttl))
  else
    redis.call('HSET', jk, 'name', name, 'payload', payload, 'state', state, 'attempt', '0', 'max_attempts', max_attempts,
      'created_ms', created, 'run_at_ms', at, 'ready_ms', at, 'options', options)
  end
end

-- Leases one ready job (already out of 'ready') to a worker under `token` (from next_tokens) until `deadline` (ms, as
-- text): a lease in 'active' (see lease_member); a 'queued' unique key is released. The job's hash is only read: its
-- 'attempt' counts the attempts used up, and the one starting now is attempt + 1. Appends to `out` the 9 values a
-- worker needs (id, token, attempt, name, payload, options, ready_ms, collected or false, and the unique mode when
-- completing must release a unique key, else '') and returns true; returns false for an id without a hash (counted).
-- With `leases` (a table), the lease's score and member are appended to it for one ZADD by the caller instead.
-- Per job this is the hot path: 7 fields are read (max attempts is in the options; the unique key only when there is
-- one), and nothing is written but the lease.
local function lease_job(prefix, active_key, id, deadline, worker, token, leases, out)
  local jk = prefix .. 'job:' .. id
  local f = redis.call('HMGET', jk, 'name', 'payload', 'options', 'attempt', 'ready_ms', 'unique_mode', 'collected')
  if not f[1] then
    redis.call('INCR', prefix .. 'stats:orphans')  -- an id without its hash: dropped (ops `check` reports these)
    return false
  end
  token = int(token)
  local member = lease_member(id, token, worker)
  if leases then
    local n = #leases
    leases[n + 1] = deadline
    leases[n + 2] = member
  else
    redis.call('ZADD', active_key, deadline, member)
  end
  local unique = f[6] or ''
  if unique == 'queued' then
    unique = ''  -- released now: completing has nothing to release
    local uk = prefix .. 'unique:' .. (redis.call('HGET', jk, 'unique_key') or '')
    if redis.call('GET', uk) == id then redis.call('DEL', uk) end
  end
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5] = id, token, tonumber(f[4]) + 1, f[1], f[2]
  out[n + 6], out[n + 7], out[n + 8], out[n + 9] = f[3], f[5], f[7] or false, unique
  return true
end

-- Direct handoff: while workers wait (sb:{q}:waiters, member '<lease_ms>|<worker id>', score = registration expiry),
-- leases jobs from the head of 'ready' to them, one each, and pushes each job's 9 values (JSON) onto the worker's
-- inbox list, which it is blocked on: the job reaches the worker in the reply that wakes it, without a take round
-- trip. Nothing is handed off from a paused queue. Returns how many were handed off.
local function hand_off(prefix, ready_key, active_key, waiters_key, paused_key, now)
  if redis.call('EXISTS', paused_key) == 1 then return 0 end
  local n = 0
  while true do
    local w = redis.call('ZRANGEBYSCORE', waiters_key, now, '+inf', 'LIMIT', 0, 1)[1]
    if not w then break end
    local id = redis.call('LPOP', ready_key)
    if not id then break end
    redis.call('ZREM', waiters_key, w)
    local lease_ms, worker = string.match(w, '^(%d+)|(.+)$')
    local job = {}
    if lease_job(prefix, active_key, id, int(now + tonumber(lease_ms)), worker, next_tokens(prefix, 1), nil, job) then
      local inbox = prefix .. 'inbox:' .. worker
      redis.call('RPUSH', inbox, cjson.encode(job))
      -- A worker that died waiting never reads it: the job's lease lapses as usual, and the list expires.
      redis.call('PEXPIRE', inbox, tonumber(lease_ms) * 2)
      n = n + 1
    end
  end
  if n > 0 then redis.call('INCRBY', prefix .. 'stats:handoffs', n) end
  return n
end

-- Hands an active job back without using up an attempt, if the worker still holds the lease `token`: its lease leaves
-- 'active' (the hash's attempt count was never raised), and it is ready at the front (delay_ms 0) or scheduled.
-- Returns whether it was handed back.
local function hand_back(prefix, active_key, ready_key, scheduled_key, id, token, worker, delay_ms, now)
  if redis.call('ZREM', active_key, lease_member(id, token, worker)) == 0 then return false end
  local jk = prefix .. 'job:' .. id
  if delay_ms > 0 then
    redis.call('HSET', jk, 'state', 'scheduled', 'run_at_ms', int(now + delay_ms))
    redis.call('ZADD', scheduled_key, int(now + delay_ms), id)
  else
    redis.call('HSET', jk, 'state', 'ready', 'ready_ms', int(now))
    redis.call('LPUSH', ready_key, id)
  end
  return true
end

-- The id of the job holding unique key `ukey`, or false: a live job's id, or the first job's id from an idempotency
-- record ('done:<id>'). A key pointing at a job that no longer exists is dangling: false, and the caller takes it over.
local function unique_holder(prefix, ukey)
  local holder = redis.call('GET', prefix .. 'unique:' .. ukey)
  if holder and string.sub(holder, 1, 5) == 'done:' then return string.sub(holder, 6) end
  if holder and redis.call('EXISTS', prefix .. 'job:' .. holder) == 1 then return holder end
  return false
end

-- Debounces one enqueue under `key` (record sb:{q}:debounce:<key>: id of the pending job, first_ms): while the key's
-- job is still scheduled, it takes `payload` (appended to its 'collected' array when it collects, up to 1,000) and
-- its run time moves to now + window, never past its first enqueue + max wait; otherwise job `id` is scheduled at
-- now + window. Returns { job id, true if `id` was created }.
local function debounce_job(prefix, queue, scheduled_key, now, id, name, payload, max_attempts, options, key, window, max_wait, collect)
  local record = prefix .. 'debounce:' .. key
  local pending = redis.call('HMGET', record, 'id', 'first_ms')
  if pending[1] and redis.call('ZSCORE', scheduled_key, pending[1]) then
    local run_at = math.min(now + window, tonumber(pending[2]) + max_wait)
    redis.call('ZADD', scheduled_key, run_at, pending[1])
    local jk = prefix .. 'job:' .. pending[1]
    redis.call('HSET', jk, 'payload', payload, 'run_at_ms', run_at, 'ready_ms', run_at)
    local c = redis.call('HMGET', jk, 'collected', 'collected_n')
    if c[1] and tonumber(c[2]) < 1000 then
      redis.call('HSET', jk, 'collected', string.sub(c[1], 1, -2) .. ',' .. payload .. ']', 'collected_n', tonumber(c[2]) + 1)
    end
    return { pending[1], false }
  end
  create_job(prefix, '', scheduled_key, now, id, name, payload, math.min(window, max_wait), max_attempts, '', '', 0, options)
  if collect then
    redis.call('HSET', prefix .. 'job:' .. id, 'collected', '[' .. payload .. ']', 'collected_n', 1)
  end
  redis.call('HSET', record, 'id', id, 'first_ms', now)
  redis.call('PEXPIRE', record, max_wait + 60000)
  return { id, true }
end

-- Fan-in: a member of a join has arrived (spec kind 'arrive', from complete.lua or relay.lua in the join's queue).
-- The join's record sb:{q}:join:<id> (state waiting|done|failed, n, arrived, r:<index> per member, job, failed_member,
-- reason; kept 7 days) counts each member once (r:<index> is set only once); the arrival that completes the set
-- creates the joining job from s.target (its spec: id, name, payload, options, max_attempts) with every member's
-- {id, index, result} in member order as its 'collected' field. A failed arrival (a dead member) ends the join in
-- state 'failed' with the member and reason: the joining job is never created. Arrivals after that change nothing.
local function arrive(prefix, queue, ready_key, scheduled_key, now, s)
  local jk = prefix .. 'join:' .. s.join
  local state = redis.call('HGET', jk, 'state')
  if state == 'done' or state == 'failed' then return end
  if s.failed then
    redis.call('HSET', jk, 'state', 'failed', 'n', int(s.n), 'failed_member', s.member, 'reason', s.reason or '', 'updated_ms', int(now))
  else
    local item = '{"id":' .. cjson.encode(s.member) .. ',"index":' .. int(s.index) .. ',"result":' .. (s.result or 'null') .. '}'
    if redis.call('HSETNX', jk, 'r:' .. int(s.index), item) == 1 then
      local arrived = redis.call('HINCRBY', jk, 'arrived', 1)
      redis.call('HSET', jk, 'state', 'waiting', 'n', int(s.n), 'updated_ms', int(now))
      if arrived >= tonumber(s.n) then
        local parts = {}
        for i = 0, tonumber(s.n) - 1 do parts[#parts + 1] = redis.call('HGET', jk, 'r:' .. i) or 'null' end
        local t = cjson.decode(s.target)
        create_job(prefix, ready_key, scheduled_key, now, t.id, t.name, t.payload, 0, t.max_attempts, '', '', 0, t.options)
        redis.call('HSET', prefix .. 'job:' .. t.id, 'collected', '[' .. table.concat(parts, ',') .. ']', 'parent', s.member)
        redis.call('HSET', jk, 'state', 'done', 'job', t.id)
      end
    end
  end
  redis.call('PEXPIRE', jk, 604800000)
end

-- Creates a successor from its spec (complete.lua for this queue, relay.lua for another), remembering its parent.
-- A spec of kind 'arrive' is a join member's arrival instead (see arrive).
-- A spec with 'debounce' {key, window_ms, max_wait_ms, collect} joins the key's pending job like any debounced
-- enqueue (the parent is recorded only on a job it creates); one with 'unique' {key, mode, ttl_ms} is not created
-- while another job holds the key. Either way the caller rings the doorbell.
local function create_successor(prefix, queue, ready_key, scheduled_key, now, s)
  if s.kind == 'arrive' then return arrive(prefix, queue, ready_key, scheduled_key, now, s) end
  if type(s.debounce) == 'table' then
    local d = s.debounce
    local made = debounce_job(prefix, queue, scheduled_key, now, s.id, s.name, s.payload, s.max_attempts, s.options, d.key,
      tonumber(d.window_ms), tonumber(d.max_wait_ms), d.collect == true)
    if made[2] then redis.call('HSET', prefix .. 'job:' .. s.id, 'parent', s.parent) end
    return
  end
  local ukey, umode, uttl = '', '', 0
  if type(s.unique) == 'table' then
    ukey, umode, uttl = s.unique.key, s.unique.mode, tonumber(s.unique.ttl_ms)
    if unique_holder(prefix, ukey) then return end
    redis.call('SET', prefix .. 'unique:' .. ukey, s.id, 'PX', int(uttl))
  end
  create_job(prefix, ready_key, scheduled_key, now, s.id, s.name, s.payload, s.delay_ms, s.max_attempts, ukey, umode, uttl, s.options)
  redis.call('HSET', prefix .. 'job:' .. s.id, 'parent', s.parent)
end

-- Wait lists of busy locks and full concurrency keys (a list in the key's own slot, members '<queue>|<job id>'): a job
-- that finds the key busy is listed in the same step as the failed take (so no release can slip between them
-- unseen), and a release hands the listed jobs back to the releasing worker to wake (wake.lua). Kept 10 minutes
-- after the last change, at most 1,000 entries.
local function add_waiter(key, waiter)
  if not key or not waiter or waiter == '' then return end
  redis.call('RPUSH', key, waiter)
  redis.call('LTRIM', key, -1000, -1)
  redis.call('PEXPIRE', key, 600000)
end

-- Takes up to 50 waiters off a wait list, oldest first.
local function take_waiters(key)
  local waiters = redis.call('LRANGE', key, 0, 49)
  if #waiters > 0 then redis.call('LTRIM', key, #waiters, -1) end
  return waiters
end
