-- fire.lua: enqueue the ticks of a recurring series (a scheduler entry), each at most once, and move its cursor.
--
-- KEYS[1] ready list   KEYS[2] scheduled zset   KEYS[3] doorbell list
-- KEYS[4] the series' record, hash sb:{q}:series:<name>: cursor_ms (newest tick handled, fired or skipped),
--         fired_tick_ms (newest tick enqueued), fired_at_ms (when), fired (count)
-- ARGV[1] key prefix   ARGV[2] queue name   ARGV[3] series name   ARGV[4] job name   ARGV[5] payload
-- ARGV[6] max attempts ARGV[7] options JSON ARGV[8] advance the cursor to at least this (ms)
-- ARGV[9..] ticks to enqueue (ms), oldest first
--
-- Returns: { cursor_ms after the call, enqueued job ids... }. A tick's job id is '<series>@<tick ms>'.
--
-- Atomically: a tick is enqueued only if it is newer than the cursor and its job id does not exist, and the cursor
-- moves with it; so any number of schedulers, racing or retrying after a crash, enqueue each tick exactly once.
local now = now_ms()
local prefix, queue, series = ARGV[1], ARGV[2], ARGV[3]
local cursor = tonumber(redis.call('HGET', KEYS[4], 'cursor_ms') or '-1')
local out = { 0 }
for i = 9, #ARGV do
  local tick = tonumber(ARGV[i])
  if tick > cursor then
    local id = series .. '@' .. ARGV[i]
    if redis.call('EXISTS', prefix .. 'job:' .. id) == 0 then
      create_job(prefix, KEYS[1], KEYS[2], now, id, ARGV[4], ARGV[5], 0, ARGV[6], '', '', 0, ARGV[7])
      redis.call('HSET', KEYS[4], 'fired_tick_ms', tick, 'fired_at_ms', now)
      redis.call('HINCRBY', KEYS[4], 'fired', 1)
      out[#out + 1] = id
    end
    cursor = tick
  end
end
cursor = math.max(cursor, tonumber(ARGV[8]))
redis.call('HSET', KEYS[4], 'cursor_ms', cursor)
out[1] = cursor
if #out > 1 then
  ring(KEYS[3])
end
return out
