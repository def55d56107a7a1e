-- leader.lua: take, keep or give up the scheduler's leader lease. Only the leader computes and fires ticks, so idle
-- replicas cost Redis one call a second; exactly-once firing does not depend on it (fire.lua decides that).
--
-- KEYS[1] sb:scheduler:<group>:leader (string: the holder's replica id, with a TTL)
-- ARGV[1] 'hold' or 'release'   ARGV[2] this replica's id   ARGV[3] lease ms (hold only)
--
-- Returns: hold → 1 when this replica holds the lease after the call (taken or extended), else 0;
--          release → 1 when this replica held it and deleted it, else 0.
--
-- Atomically: compare-and-extend, compare-and-set-if-absent, compare-and-delete; a replica never extends or
-- deletes a lease that another one holds.
local holder = redis.call('GET', KEYS[1])
if ARGV[1] == 'release' then
  if holder == ARGV[2] then redis.call('DEL', KEYS[1]); return 1 end
  return 0
end
if holder == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
