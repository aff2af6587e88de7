--[[
  Puts a refunded reservation's seats back on sale after PostgreSQL refunded it. PostgreSQL
  has already decided, so this only makes Redis agree.

  KEYS[1] meta  KEYS[2] holds  KEYS[3] users  KEYS[4] zoneSeats  KEYS[5] zoneCounts
  KEYS[6] zoneFree  KEYS[7] zoneIndex   (seated: the seat index, kept exact; see lua/includes/seatIndex.lua)
  ARGV[1] reservation id

  Returns 1 freed; 0 Redis has nothing for it (already freed); -1 event not loaded;
          -2 the reservation is only held here (drift: the caller rebuilds the event)
]]
local rcall = redis.call
--- @include "seatIndex"

if rcall('EXISTS', KEYS[1]) == 0 then return -1 end

local rec = rcall('HGET', KEYS[2], ARGV[1])
if not rec then return 0 end
local status, _, qty, seats, user = string.match(rec, '^(%a)|([^|]*)|(%d+)|([^|]*)|(.*)$')
if status ~= 's' then return -2 end

local tag = 's:' .. ARGV[1]
local freed = {}
for label in string.gmatch(seats, '[^,]+') do
  if rcall('HGET', KEYS[4], label) == tag then
    rcall('HSET', KEYS[4], label, '')
    freed[#freed + 1] = label
  end
end
if #freed > 0 then
  local c = rcall('HMGET', KEYS[5], 'perRow', 'leaves')
  if c[1] and rcall('EXISTS', KEYS[7]) == 1 then
    SI.mark(KEYS[6], KEYS[7], tonumber(c[2]), tonumber(c[1]), freed, '0')
  end
end
rcall('HINCRBY', KEYS[5], 'sold', -tonumber(qty))
if rcall('HINCRBY', KEYS[3], user, -tonumber(qty)) <= 0 then rcall('HDEL', KEYS[3], user) end
rcall('HDEL', KEYS[2], ARGV[1])
return 1
