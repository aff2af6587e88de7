--[[
  Join limits of one waiting room, shared by every process: fixed windows on the Redis
  clock (a counter lives `window` ms from its first join). The user is counted first; a
  join refused for the user is not counted against the address.

  KEYS[1] joins of this user in the current window (string counter, expires with the window)
  KEYS[2] joins from this client address in the current window
  KEYS[3] refused  hash reason -> joins refused ("user", "address", and the challenge's)

  ARGV[1] joins allowed per user per window (0: no limit)
  ARGV[2] joins allowed per address per window (0: no limit)
  ARGV[3] window (ms)

  Returns {0, 0} allowed | {1, ms} refused for the user | {2, ms} refused for the address,
  ms = time until the window that refused it ends.
]]
local rcall = redis.call
local window = tonumber(ARGV[3])

local function count(key, limit, reason, code)
  if limit <= 0 then return nil end
  local n = rcall('INCR', key)
  if n == 1 then rcall('PEXPIRE', key, window) end
  if n > limit then
    rcall('HINCRBY', KEYS[3], reason, 1)
    local ttl = rcall('PTTL', key)
    if ttl < 0 then
      rcall('PEXPIRE', key, window)
      ttl = window
    end
    return {code, ttl}
  end
  return nil
end

return count(KEYS[1], tonumber(ARGV[1]), 'user', 1) or count(KEYS[2], tonumber(ARGV[2]), 'address', 2) or {0, 0}
