--[[
  Grows a zone after PostgreSQL committed its larger size, without touching what is held or
  sold: GA capacity is raised, a seated zone gains free rows at its back. Idempotent ("at
  least this big"), and a seated zone grows by at most ARGV[4] rows per call so that no call
  runs long; the caller repeats until it returns done.

  KEYS[1] meta  KEYS[2] zoneSeats  KEYS[3] zoneCounts  KEYS[4] zoneFree  KEYS[5] zoneIndex
  ARGV[1] zone code   ARGV[2] "ga" | "seated"
  ARGV[3] GA: target capacity | seated: target rows
  ARGV[4] seated: most rows added by this call

  Returns {1, size} done (size: capacity or rows now); {0, rows} more rows to add;
          {-1} event not loaded (the loader will build it from PostgreSQL)
]]
local rcall = redis.call
--- @include "seatIndex"

if rcall('EXISTS', KEYS[1]) == 0 then return {-1} end
local target = tonumber(ARGV[3])

if ARGV[2] == 'ga' then
  local cap = tonumber(rcall('HGET', KEYS[3], 'capacity') or '0')
  if target > cap then
    rcall('HSET', KEYS[3], 'capacity', target)
    cap = target
  end
  return {1, cap}
end

local c = rcall('HMGET', KEYS[3], 'rows', 'perRow', 'leaves', 'capacity')
local rows, perRow, P, cap = tonumber(c[1]), tonumber(c[2]), tonumber(c[3]), tonumber(c[4])
if target <= rows then return {1, rows} end
local add = math.min(target - rows, tonumber(ARGV[4]))
local last = rows + add

for r = rows + 1, last do
  for n = 1, perRow do rcall('HSETNX', KEYS[2], ARGV[1] .. '-' .. r .. '-' .. n, '') end
end
rcall('SETRANGE', KEYS[4], rows * perRow, string.rep('0', add * perRow))

local fresh = string.rep(SI.enc(SI.POW[perRow] or 0, perRow), add)
if last > P then
  -- More rows than leaves: a tree twice (or more) as wide, the old leaves copied in.
  local old = rcall('GETRANGE', KEYS[5], (P - 1) * 6, (P - 1 + rows) * 6 - 1)
  while P < last do P = P * 2 end
  rcall('SET', KEYS[5], string.rep('\0', (2 * P - 1) * 6))
  SI.writeLeaves(KEYS[5], P, 1, old .. fresh)
else
  SI.writeLeaves(KEYS[5], P, rows + 1, fresh)
end
rcall('HSET', KEYS[3], 'rows', last, 'leaves', P, 'capacity', cap + add * perRow)
if last < target then return {0, last} end
return {1, last}
