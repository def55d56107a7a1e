-- prelude.lua: helpers prepended to every queue script when it is loaded (QueueScripts.swift).
-- Touches no keys by itself.

-- The server's clock in milliseconds: one clock for every worker, whatever their own clocks say.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
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
    redis.call('DEL', prefix .. 'job:' .. o)
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
