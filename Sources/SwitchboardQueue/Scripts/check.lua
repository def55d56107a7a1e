-- check.lua: confirm (and with repair, fix) suspected inconsistencies of one queue (ops: `switchboard check`).
-- The caller finds suspects from snapshots taken over several round trips, which may race with workers; this
-- script decides each suspect again with everything it needs read at once, so a job that merely moved between two
-- snapshots is never reported, and a repair acts only on what is still wrong.
--
-- KEYS[1] ready list   KEYS[2] scheduled zset   KEYS[3] retry zset   KEYS[5] dead zset
-- KEYS[4] active zset (leases: '<id>|<token>|<worker id>'; a leased job's hash keeps the state 'ready')
-- KEYS[6] done zset
-- ARGV[1] key prefix   ARGV[2] '1' to repair, '0' to report only
-- ARGV[3] UTC day (yyyymmdd)   ARGV[4] dead retention: max count   ARGV[5] dead retention: max age ms
-- ARGV[6..] triples: kind, subject, extra
--   kind 'job':    subject = job id; extra = a lease owner whose process record has expired ('' = none known)
--   kind 'unique': subject = unique key (without prefix); extra unused
--
-- Returns: a flat array of findings, 4 values each: kind, subject, what is wrong, what was done ('' when not repairing).
-- Kinds: 'orphan-id' (an id in a state with no job data), 'two-states' (an id in more than one state, or twice in
-- ready), 'wrong-state' (the job's state field disagrees with where it is; 'ready' is right for an active job),
-- 'stranded' (job data in no state), 'no-lease-holder' (an active job whose worker is gone), 'dangling-unique' (a
-- unique key pointing at a missing job).
--
-- Atomically per suspect: the decision and its repair.
local now = now_ms()
local prefix, repair = ARGV[1], ARGV[2] == '1'
local reclaim_opts = { day = ARGV[3], dead_max = tonumber(ARGV[4]), dead_age_ms = tonumber(ARGV[5]) }
local names = { 'ready', 'scheduled', 'retry', 'active', 'dead', 'done' }
-- Where a job in several states is kept when its state field names none of them: the place that still runs it.
local preference = { 'active', 'ready', 'retry', 'scheduled', 'dead', 'done' }
local key_of = {}
for i, n in ipairs(names) do key_of[n] = KEYS[i] end
local out = {}

-- The state field a job in `place` has: a lease does not write the job's hash, so an active job's says 'ready'.
local function field_of(place)
  if place == 'active' then return 'ready' end
  return place
end

-- The members of 'active' that are leases of `id` (normally at most one), by ZSCAN: ops only, bounded by the slots.
local function leases_of(id)
  local pattern = string.gsub(id, '([%*%?%[%]\\])', '\\%1') .. '|*'
  local found, cursor = {}, '0'
  repeat
    local r = redis.call('ZSCAN', KEYS[4], cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = r[1]
    for i = 1, #r[2], 2 do
      if parse_lease(r[2][i]) == id then found[#found + 1] = r[2][i] end
    end
  until cursor == '0'
  return found
end

local function report(kind, subject, wrong, done)
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4] = kind, subject, wrong, repair and done or ''
end

-- Removes id from every state except keep (nil: from all); one copy stays in ready when keep is ready.
local function remove_except(id, keep, ready_copies)
  for _, n in ipairs(names) do
    if n ~= keep then
      if n == 'ready' then
        redis.call('LREM', KEYS[1], 0, id)
      elseif n == 'active' then
        for _, m in ipairs(leases_of(id)) do redis.call('ZREM', KEYS[4], m) end
      else
        redis.call('ZREM', key_of[n], id)
      end
    elseif n == 'ready' and ready_copies > 1 then
      redis.call('LREM', KEYS[1], 1 - ready_copies, id)  -- negative count: drop the later copies, keep the first
    end
  end
end

-- Puts a job with data but no state back where its state field says, scored by its own times.
local function place(id, jk, state)
  local f = redis.call('HMGET', jk, 'run_at_ms', 'finished_ms')
  if state == 'scheduled' or state == 'retry' then
    redis.call('ZADD', key_of[state], tonumber(f[1]) or now, id)
    return 'added to ' .. state
  elseif state == 'dead' or state == 'done' then
    redis.call('ZADD', key_of[state], tonumber(f[2]) or now, id)
    return 'added to ' .. state
  end
  redis.call('HSET', jk, 'state', 'ready', 'ready_ms', now)
  redis.call('RPUSH', KEYS[1], id)
  return 'added to ready'
end

local function check_job(id, gone_owner)
  local jk = prefix .. 'job:' .. id
  local found = {}
  local ready_copies = #redis.call('LPOS', KEYS[1], id, 'COUNT', 0)
  if ready_copies > 0 then found[#found + 1] = 'ready' end
  local leases = leases_of(id)
  for i = 2, 6 do
    if (i == 4 and #leases > 0) or (i ~= 4 and redis.call('ZSCORE', KEYS[i], id)) then found[#found + 1] = names[i] end
  end
  local where = table.concat(found, ', ')
  if redis.call('EXISTS', jk) == 0 then
    if #found > 0 then
      report('orphan-id', id, 'in ' .. where .. ' with no job data', 'removed from ' .. where)
      if repair then remove_except(id, nil, 0) end
    end
    return
  end
  local state = redis.call('HGET', jk, 'state') or ''
  if #found == 0 then
    local action = repair and place(id, jk, state) or ''
    report('stranded', id, 'job data (state ' .. state .. ') in no state', action)
    return
  end
  if #found > 1 or ready_copies > 1 then
    local keep = nil
    for _, p in ipairs(preference) do
      for _, n in ipairs(found) do if not keep and n == p and field_of(n) == state then keep = n end end
    end
    if not keep then
      for _, p in ipairs(preference) do
        for _, n in ipairs(found) do if not keep and n == p then keep = n end end
      end
    end
    local wrong = ready_copies > 1 and #found == 1 and ('in ready ' .. ready_copies .. ' times') or ('in ' .. where)
    report('two-states', id, wrong .. ' (state field: ' .. state .. ')', 'kept in ' .. keep .. ' only')
    if repair then
      remove_except(id, keep, ready_copies)
      redis.call('HSET', jk, 'state', field_of(keep))
    end
    return
  end
  if state ~= field_of(found[1]) then
    local want = field_of(found[1])
    report('wrong-state', id, 'in ' .. found[1] .. ' but its state field says ' .. state, 'state set to ' .. want)
    if repair then redis.call('HSET', jk, 'state', want) end
    return
  end
  local held = leases[1]
  if found[1] == 'active' and gone_owner ~= '' and select(3, parse_lease(held)) == gone_owner then
    local action = ''
    if repair then
      redis.call('ZREM', KEYS[4], held)
      action = 'returned to ' .. reclaim_job(prefix, { ready = KEYS[1], dead = KEYS[5] }, id, now,
        'lease holder ' .. gone_owner .. ' is gone (repaired by switchboard check)', reclaim_opts)
    end
    report('no-lease-holder', id, 'active, leased to ' .. gone_owner .. ' whose process record has expired', action)
  end
end

local function check_unique(ukey)
  local uk = prefix .. 'unique:' .. ukey
  local holder = redis.call('GET', uk)
  if not holder or string.sub(holder, 1, 5) == 'done:' then return end
  if redis.call('EXISTS', prefix .. 'job:' .. holder) == 0 then
    report('dangling-unique', ukey, 'points at job ' .. holder .. ', which does not exist', 'key deleted')
    if repair then redis.call('DEL', uk) end
  end
end

for i = 6, #ARGV, 3 do
  if ARGV[i] == 'job' then check_job(ARGV[i + 1], ARGV[i + 2]) else check_unique(ARGV[i + 1]) end
end
if repair and #out > 0 and redis.call('LLEN', KEYS[1]) > 0 then
  -- Repairs may have made jobs ready: wake an idle worker (the doorbell shares the queue's hash tag).
  ring(prefix .. 'doorbell')
end
return out
