-- outbox.lua: claim or acknowledge successors waiting in a queue's outbox to be relayed to their own queue.
--
-- KEYS[1] outbox   sb:{q}:outbox      (hash: successor id → its spec, JSON)
-- KEYS[2] due      sb:{q}:outbox:due  (zset: successor id → when a sweep may relay it, ms)
-- ARGV[1] 'claim' or 'ack'
--   claim: ARGV[2] max entries   ARGV[3] hold ms
--   ack:   ARGV[2..] successor ids
--
-- Returns: claim → a flat array id, spec, id, spec… of entries due now, each made due again hold ms later (so one
--          sweeper relays it at a time, and a sweeper that dies leaves it to the next);
--          ack → how many entries were removed.
--
-- Atomically: claiming reads and pushes back due times together; acknowledging removes an entry from both keys.
local op = ARGV[1]
if op == 'claim' then
  local now = now_ms()
  local out = {}
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
    local spec = redis.call('HGET', KEYS[1], id)
    if spec then
      redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), id)
      out[#out + 1] = id
      out[#out + 1] = spec
    else
      redis.call('ZREM', KEYS[2], id)
    end
  end
  return out
elseif op == 'ack' then
  local n = 0
  for i = 2, #ARGV do
    n = n + redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('ZREM', KEYS[2], ARGV[i])
  end
  return n
end
return redis.error_reply('outbox.lua: unknown operation ' .. tostring(op))
