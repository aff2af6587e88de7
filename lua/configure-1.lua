--[[
  Applies an event's edited settings to its loaded inventory: the sales window, the per-user
  limit and the lifecycle state that the hold script checks. Counters are never touched.
  An event not loaded is left alone: the loader writes these from PostgreSQL when it loads.

  KEYS[1] meta
  ARGV[1] open (epoch ms)  ARGV[2] close (epoch ms)  ARGV[3] max seats per user
  ARGV[4] state ("draft" | "on_sale" | "closed" | "cancelled")

  Returns 1 applied; 0 event not loaded
]]
local rcall = redis.call
if rcall('EXISTS', KEYS[1]) == 0 then return 0 end
rcall('HSET', KEYS[1], 'open', ARGV[1], 'close', ARGV[2], 'max', ARGV[3], 'state', ARGV[4])
return 1
