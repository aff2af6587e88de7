--[[
  Frees one reservation's hold, and only the seats Redis still has as held by it.
  Used by cancel, by the seat-release worker after PostgreSQL decided the hold expired,
  and to undo a hold whose PostgreSQL write failed.

  KEYS[1] meta  KEYS[2] holds  KEYS[3] users  KEYS[4] idem  KEYS[5] zoneSeats  KEYS[6] zoneCounts
  KEYS[7] zoneFree  KEYS[8] zoneIndex   (seated: the seat index, kept exact; see lua/includes/seatIndex.lua)
  ARGV[1] reservation id
  ARGV[2] "1" to forget the hold's idempotency key as well: for a hold PostgreSQL never
          got (an undone or orphaned hold), so a retry with that key runs again. ""
          keeps it, so a replay finds the (cancelled/expired) reservation in PostgreSQL.

  Returns 1 freed; 0 nothing held by it (already freed); -1 event not loaded;
          -2 the reservation is sold (left alone)
]]
local rcall = redis.call
--- @include "seatIndex"

if rcall('EXISTS', KEYS[1]) == 0 then return -1 end

local reverse = '\1' .. ARGV[1]
local function forget()
  local field = rcall('HGET', KEYS[4], reverse)
  if field and ARGV[2] == '1' then
    local v = rcall('HGET', KEYS[4], field)
    if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then rcall('HDEL', KEYS[4], field) end
  end
  if field then rcall('HDEL', KEYS[4], reverse) end
end

local rec = rcall('HGET', KEYS[2], ARGV[1])
if not rec then
  forget()
  return 0
end

local status, _, qty, seats, user = string.match(rec, '^(%a)|([^|]*)|(%d+)|([^|]*)|(.*)$')
if status == 's' then return -2 end

local tag = 'h:' .. ARGV[1]
local freed = {}
for label in string.gmatch(seats, '[^,]+') do
  if rcall('HGET', KEYS[5], label) == tag then
    rcall('HSET', KEYS[5], label, '')
    freed[#freed + 1] = label
  end
end
if #freed > 0 then
  local c = rcall('HMGET', KEYS[6], 'perRow', 'leaves')
  if c[1] and rcall('EXISTS', KEYS[8]) == 1 then
    SI.mark(KEYS[7], KEYS[8], tonumber(c[2]), tonumber(c[1]), freed, '0')
  end
end
rcall('HINCRBY', KEYS[6], 'held', -tonumber(qty))
if rcall('HINCRBY', KEYS[3], user, -tonumber(qty)) <= 0 then rcall('HDEL', KEYS[3], user) end
rcall('HDEL', KEYS[2], ARGV[1])
forget()
return 1
