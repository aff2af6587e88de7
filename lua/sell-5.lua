--[[
  Marks a held reservation sold after PostgreSQL confirmed it. PostgreSQL has already
  decided, so this only makes Redis agree.

  KEYS[1] meta  KEYS[2] holds  KEYS[3] users  KEYS[4] zoneSeats  KEYS[5] zoneCounts
  ARGV[1] reservation id

  Returns 1 sold now; 0 already sold; -1 event not loaded;
          -3 Redis has no hold for it (drift: the caller rebuilds the event)
]]
local rcall = redis.call

if rcall('EXISTS', KEYS[1]) == 0 then return -1 end

local rec = rcall('HGET', KEYS[2], ARGV[1])
if not rec then return -3 end
local status, zone, qty, seats, user = string.match(rec, '^(%a)|([^|]*)|(%d+)|([^|]*)|(.*)$')
if status == 's' then return 0 end

local tag = 's:' .. ARGV[1]
for label in string.gmatch(seats, '[^,]+') do rcall('HSET', KEYS[4], label, tag) end
rcall('HINCRBY', KEYS[5], 'held', -tonumber(qty))
rcall('HINCRBY', KEYS[5], 'sold', tonumber(qty))
rcall('HSET', KEYS[2], ARGV[1], 's|' .. zone .. '|' .. qty .. '|' .. seats .. '|' .. user)
return 1
