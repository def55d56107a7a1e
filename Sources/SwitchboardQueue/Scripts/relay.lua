-- relay.lua: create, in their own queue, successors that a completed job left in its queue's outbox
-- (complete.lua), each exactly once however often it is relayed.
--
-- KEYS[1] ready list   KEYS[2] scheduled zset   KEYS[3] doorbell list     (all of the successors' queue)
-- ARGV[1] key prefix   sb:{q}:   ARGV[2] queue name   ARGV[3] tombstone TTL ms
-- ARGV[4..] successor specs, JSON {id, queue, name, payload, delay_ms, max_attempts, options, parent}
--
-- Returns: an array with, per spec, 1 when it was created now, or 0 when it had been relayed before.
--
-- Atomically per spec: the check of its tombstone sb:{q}:relayed:<id> and the creation together with the tombstone.
-- The outbox entry is acknowledged (outbox.lua) only after this, in another slot, so a crash in between relays it
-- again; the tombstone makes that second relay a no-op for as long as it lives (ARGV[3]).
local now = now_ms()
local prefix, queue, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
local rang = false
for i = 4, #ARGV do
  local s = cjson.decode(ARGV[i])
  local tomb = prefix .. 'relayed:' .. s.id
  if redis.call('EXISTS', tomb) == 1 then
    out[#out + 1] = 0
  else
    create_successor(prefix, queue, KEYS[1], KEYS[2], now, s)
    redis.call('SET', tomb, s.parent, 'PX', ttl)
    rang = true
    out[#out + 1] = 1
  end
end
if rang then
  ring(KEYS[3])
end
return out
