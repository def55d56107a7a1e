-- unwait.lua: a worker stops waiting for handoffs (it is stopping): unregister it and give back what reached its
-- inbox meanwhile.
--
-- KEYS[1] waiters zset   KEYS[2] the worker's inbox list   KEYS[3] active zset   KEYS[4] ready list
-- KEYS[5] doorbell list
-- ARGV[1] key prefix     ARGV[2] the worker's waiter member '<lease_ms>|<worker id>'
--
-- Returns: how many jobs were given back.
--
-- Atomically: the registration is removed, so no handoff can follow; each job in the inbox that is still leased
-- under the token it was handed with goes back to the front of 'ready', its attempt unused (it never ran).
local prefix = ARGV[1]
local worker = string.match(ARGV[2], '^%d+|(.+)$')
redis.call('ZREM', KEYS[1], ARGV[2])
local back = 0
while true do
  local raw = redis.call('LPOP', KEYS[2])
  if not raw then break end
  local job = cjson.decode(raw)
  if hand_back(prefix, KEYS[3], KEYS[4], '', job[1], job[2], worker, 0, now_ms()) then back = back + 1 end
end
if back > 0 then ring(KEYS[5]) end
return back
