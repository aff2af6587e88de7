--[[
  After PostgreSQL refused a hold that Redis allowed (Redis lost writes: a failover, a
  restore), makes Redis at least as strict as PostgreSQL for what the refusal revealed:
  the user's and the zone's seat counts are raised to PostgreSQL's, and seats PostgreSQL
  has live are marked taken. Never loosens anything: whatever Redis counts beyond
  PostgreSQL is left to the release paths and the reconciler.

  KEYS[1] meta  KEYS[2] users  KEYS[3] zoneSeats  KEYS[4] zoneCounts
  KEYS[5] zoneFree  KEYS[6] zoneIndex   (seated: the seat index, kept exact; see lua/includes/seatIndex.lua)
  ARGV[1] user id
  ARGV[2] seats the user has live in PostgreSQL for this event ("" = not known)
  ARGV[3] seats live in this zone in PostgreSQL ("" = not known)
  ARGV[4..] label, value pairs: seats PostgreSQL has live, value "h:<id>" or "s:<id>"

  Returns {user raised by, zone raised by, seats claimed}; {-1} event not loaded
]]
local rcall = redis.call
--- @include "seatIndex"

if rcall('EXISTS', KEYS[1]) == 0 then return {-1} end

local claimed = 0
local labels = {}
for i = 4, #ARGV - 1, 2 do
  if rcall('HGET', KEYS[3], ARGV[i]) == '' then
    rcall('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
    rcall('HINCRBY', KEYS[4], string.sub(ARGV[i + 1], 1, 1) == 's' and 'sold' or 'held', 1)
    claimed = claimed + 1
    labels[#labels + 1] = ARGV[i]
  end
end
if #labels > 0 then
  local c = rcall('HMGET', KEYS[4], 'perRow', 'leaves')
  if c[1] and rcall('EXISTS', KEYS[6]) == 1 then
    SI.mark(KEYS[5], KEYS[6], tonumber(c[2]), tonumber(c[1]), labels, '1')
  end
end

local user = 0
if ARGV[2] ~= '' then
  local cur = tonumber(rcall('HGET', KEYS[2], ARGV[1]) or '0')
  local want = tonumber(ARGV[2])
  if cur < want then
    rcall('HSET', KEYS[2], ARGV[1], want)
    user = want - cur
  end
end

local zone = 0
if ARGV[3] ~= '' then
  local c = rcall('HMGET', KEYS[4], 'held', 'sold')
  local cur = tonumber(c[1] or '0') + tonumber(c[2] or '0')
  local want = tonumber(ARGV[3])
  if cur < want then
    rcall('HINCRBY', KEYS[4], 'held', want - cur)
    zone = want - cur
  end
end

return {user, zone, claimed}
