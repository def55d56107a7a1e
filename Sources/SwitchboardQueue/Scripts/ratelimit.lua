-- ratelimit.lua: one admission under a rate limit (GCRA, the generic cell rate algorithm), or how long to wait.
--
-- KEYS[1] the limit's theoretical arrival time, sb:{rate:<key>}:tat (µs on the server's clock; expires when idle)
-- ARGV[1] emission interval µs (period / limit)   ARGV[2] burst tolerance µs (interval × (burst − 1); 0: no burst)
--
-- Returns: { 1, admitted_at_us } when admitted; { 0, wait_us } when the caller must wait that long first.
--
-- Atomically: the check and the advance of the arrival time, so admissions under one key are spaced by the interval
-- (after any burst) across every worker, and a sliding window of one period never holds more than limit + burst − 1.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if now < tat - tolerance then
  return { 0, tat - tolerance - now }
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], next_tat, 'PX', math.floor((next_tat - now) / 1000) + 1000)
return { 1, now }
