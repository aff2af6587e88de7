--[[
  Holds seats (seated zone) or a quantity (GA zone) for one reservation: all or nothing.

  KEYS[1] meta        hash open, close (epoch ms), max (seats per user); absent = event not loaded
  KEYS[2] holds       hash reservationId -> "h|zone|qty|seat,seat|user"
  KEYS[3] users       hash userId -> seats held or bought
  KEYS[4] idem        hash "user\0key" -> "reservationId|requestHash", and "\1<reservationId>" -> "user\0key"
                      (the reverse entry lets a release forget the key of a hold PostgreSQL never got)
  KEYS[5] zoneSeats   hash label -> "" free | "h:<id>" held | "s:<id>" sold (empty for GA)
  KEYS[6] zoneCounts  hash capacity, held, sold

  ARGV[1] now (epoch ms)       ARGV[2] reservation id   ARGV[3] user id
  ARGV[4] idempotency field ("" = the request sent no key: nothing to remember)
  ARGV[5] request hash         ARGV[6] zone code
  ARGV[7] quantity             ARGV[8..] seat labels (none for GA)

  Returns
    {1}             held
    {0, id}         this idempotency key already made reservation id (same body)
    {-1}            event not loaded in Redis (rebuild first)
    {-2}            idempotency key reused with a different body
    {-3}            sales are not open
    {-4, current}   per-user limit would be exceeded; current = seats the user has
    {-5, label...}  these seats are held or sold
    {-6, available} GA zone has fewer than quantity left
    {-7, label}     unknown seat label
]]
local rcall = redis.call

if rcall('EXISTS', KEYS[1]) == 0 then return {-1} end

local keyed = ARGV[4] ~= ''
if keyed then
  local prior = rcall('HGET', KEYS[4], ARGV[4])
  if prior then
    local sep = string.find(prior, '|', 1, true)
    if string.sub(prior, sep + 1) ~= ARGV[5] then return {-2} end
    return {0, string.sub(prior, 1, sep - 1)}
  end
end

local now = tonumber(ARGV[1])
local meta = rcall('HMGET', KEYS[1], 'open', 'close', 'max')
if now < tonumber(meta[1]) or now >= tonumber(meta[2]) then return {-3} end

local qty = tonumber(ARGV[7])
local current = tonumber(rcall('HGET', KEYS[3], ARGV[3]) or '0')
if current + qty > tonumber(meta[3]) then return {-4, current} end

if #ARGV >= 8 then
  local states = rcall('HMGET', KEYS[5], unpack(ARGV, 8))
  local taken = {}
  for i, state in ipairs(states) do
    if not state then return {-7, ARGV[i + 7]} end
    if state ~= '' then taken[#taken + 1] = ARGV[i + 7] end
  end
  if #taken > 0 then
    table.insert(taken, 1, -5)
    return taken
  end
  local tag = 'h:' .. ARGV[2]
  local fields = {}
  for i = 8, #ARGV do
    fields[#fields + 1] = ARGV[i]
    fields[#fields + 1] = tag
  end
  rcall('HSET', KEYS[5], unpack(fields))
else
  local c = rcall('HMGET', KEYS[6], 'capacity', 'held', 'sold')
  local available = tonumber(c[1]) - tonumber(c[2] or '0') - tonumber(c[3] or '0')
  if available < qty then return {-6, available} end
end

rcall('HINCRBY', KEYS[6], 'held', qty)
rcall('HINCRBY', KEYS[3], ARGV[3], qty)
rcall('HSET', KEYS[2], ARGV[2],
  'h|' .. ARGV[6] .. '|' .. qty .. '|' .. table.concat(ARGV, ',', 8) .. '|' .. ARGV[3])
if keyed then
  rcall('HSET', KEYS[4], ARGV[4], ARGV[2] .. '|' .. ARGV[5], '\1' .. ARGV[2], ARGV[4])
end
return {1}
