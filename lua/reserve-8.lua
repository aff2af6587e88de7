--[[
  Holds seats for one reservation, all or nothing: picked seats or best available (seated
  zone), or a quantity (GA zone).

  KEYS[1] meta        hash open, close (epoch ms), max (seats per user), state (absent or
                      "on_sale" = holds allowed; "draft", "closed", "cancelled" refuse them);
                      absent key = event not loaded
  KEYS[2] holds       hash reservationId -> "h|zone|qty|seat,seat|user"
  KEYS[3] users       hash userId -> seats held or bought
  KEYS[4] idem        hash "user\0key" -> "reservationId|requestHash", and "\1<reservationId>" -> "user\0key"
                      (the reverse entry lets a release forget the key of a hold PostgreSQL never got)
  KEYS[5] zoneSeats   hash label -> "" free | "h:<id>" held | "s:<id>" sold (empty for GA)
  KEYS[6] zoneCounts  hash capacity, held, sold; seated: rows, perRow, leaves
  KEYS[7] zoneFree    seated: seat bitmap (lua/includes/seatIndex.lua)
  KEYS[8] zoneIndex   seated: segment tree over rows (lua/includes/seatIndex.lua)

  ARGV[1] now (epoch ms)       ARGV[2] reservation id   ARGV[3] user id
  ARGV[4] idempotency field ("" = the request sent no key: nothing to remember)
  ARGV[5] request hash         ARGV[6] zone code
  ARGV[7] quantity             ARGV[8] mode: "ga" | "pick" | "best"
  ARGV[9..] seat labels (pick only)

  Best available: the front-most row that has a block of `quantity` adjacent free seats, the
  block nearest that row's centre; but a block that would leave a single free seat beside it
  (an orphan) is taken only when no orphan-free block of that size exists in the zone.

  Returns
    {1}             held (ga, pick)
    {1, label...}   held (best): the seats chosen
    {0, id}         this idempotency key already made reservation id (same body)
    {-1}            event not loaded in Redis (rebuild first)
    {-2}            idempotency key reused with a different body
    {-3, state}     sales are not open (state: the event's state, "" = outside the window)
    {-4, current}   per-user limit would be exceeded; current = seats the user has
    {-5, label...}  these seats are held or sold
    {-6, available} GA zone has fewer than quantity left
    {-7, label}     unknown seat label
    {-8, largest}   best: no block of quantity adjacent seats; largest = longest free block
    {-9}            best: index and seat hash disagree (drift: the caller rebuilds the event)
]]
local rcall = redis.call
--- @include "seatIndex"

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
local meta = rcall('HMGET', KEYS[1], 'open', 'close', 'max', 'state')
if meta[4] and meta[4] ~= 'on_sale' then return {-3, meta[4]} end
if now < tonumber(meta[1]) or now >= tonumber(meta[2]) then return {-3, ''} end

local qty = tonumber(ARGV[7])
local current = tonumber(rcall('HGET', KEYS[3], ARGV[3]) or '0')
if current + qty > tonumber(meta[3]) then return {-4, current} end

local mode = ARGV[8]
local labels = {}

-- Best placement of n seats in one row's bytes: the orphan-free block nearest the centre
-- and the block nearest the centre regardless, each as (start seat, index of its run).
local function place(row, perRow, n)
  local ideal = math.floor((perRow + 2 - n) / 2)
  local runs = {}
  local best = {strict = {}, any = {}}
  for a, b in string.gmatch(row, '()0+()') do
    local e = b - 1
    runs[#runs + 1] = a
    runs[#runs + 1] = e
    local hi = e - n + 1
    if hi >= a then
      local c = math.min(math.max(ideal, a), hi)
      for _, s in ipairs({c, c - 1, c + 1, c + 2, a, a + 2, hi, hi - 2}) do
        if s >= a and s <= hi then
          local d = math.abs(2 * s + n - 1 - (perRow + 1))
          local orphan = s - a == 1 or hi - s == 1
          for kind, slot in pairs(best) do
            if (kind == 'any' or not orphan) and (not slot.d or d < slot.d or (d == slot.d and s < slot.s)) then
              slot.s, slot.d, slot.run = s, d, #runs - 1
            end
          end
        end
      end
    end
  end
  local pick = best.strict.s and best.strict or best.any
  return pick.s, pick.run, runs
end

if mode == 'pick' then
  local states = rcall('HMGET', KEYS[5], unpack(ARGV, 9))
  local taken = {}
  for i, state in ipairs(states) do
    if not state then return {-7, ARGV[i + 8]} end
    if state ~= '' then taken[#taken + 1] = ARGV[i + 8] end
  end
  if #taken > 0 then
    table.insert(taken, 1, -5)
    return taken
  end
  for i = 9, #ARGV do labels[#labels + 1] = ARGV[i] end
elseif mode == 'best' then
  local c = rcall('HMGET', KEYS[6], 'perRow', 'leaves')
  local perRow, P = tonumber(c[1]), tonumber(c[2])
  if not perRow or rcall('EXISTS', KEYS[8]) == 0 then return {-9} end
  local idx = KEYS[8]
  local exact = SI.POW[qty]
  local r = SI.leftmost(idx, P, function(mask, mx)
    return mx >= qty + 2 or (exact ~= nil and bit.band(mask, exact) ~= 0)
  end)
  if not r then r = SI.leftmost(idx, P, function(_, mx) return mx >= qty end) end
  if not r then
    local _, largest = SI.root(idx)
    return {-8, largest}
  end
  local row = rcall('GETRANGE', KEYS[7], (r - 1) * perRow, r * perRow - 1)
  local s, run, runs = place(row, perRow, qty)
  if not s then return {-9} end
  for n = s, s + qty - 1 do labels[#labels + 1] = ARGV[6] .. '-' .. r .. '-' .. n end
  local states = rcall('HMGET', KEYS[5], unpack(labels))
  for _, state in ipairs(states) do
    if state ~= '' then return {-9} end
  end
  -- The row's new summary follows from its runs: the chosen one splits in two.
  local mask, mx = 0, 0
  local function add(len)
    if len <= 0 then return end
    if len > mx then mx = len end
    local p = SI.POW[len]
    if p and bit.band(mask, p) == 0 then mask = mask + p end
  end
  for j = 1, #runs, 2 do
    if j == run then
      add(s - runs[j])
      add(runs[j + 1] - (s + qty - 1))
    else
      add(runs[j + 1] - runs[j] + 1)
    end
  end
  rcall('SETRANGE', KEYS[7], (r - 1) * perRow + s - 1, string.rep('1', qty))
  SI.writeLeaves(idx, P, r, SI.enc(mask, mx))
else
  local c = rcall('HMGET', KEYS[6], 'capacity', 'held', 'sold')
  local available = tonumber(c[1]) - tonumber(c[2] or '0') - tonumber(c[3] or '0')
  if available < qty then return {-6, available} end
end

if #labels > 0 then
  local tag = 'h:' .. ARGV[2]
  local fields = {}
  for _, label in ipairs(labels) do
    fields[#fields + 1] = label
    fields[#fields + 1] = tag
  end
  rcall('HSET', KEYS[5], unpack(fields))
  if mode == 'pick' then
    local c = rcall('HMGET', KEYS[6], 'perRow', 'leaves')
    if c[1] and rcall('EXISTS', KEYS[8]) == 1 then
      SI.mark(KEYS[7], KEYS[8], tonumber(c[2]), tonumber(c[1]), labels, '1')
    end
  end
end

rcall('HINCRBY', KEYS[6], 'held', qty)
rcall('HINCRBY', KEYS[3], ARGV[3], qty)
rcall('HSET', KEYS[2], ARGV[2],
  'h|' .. ARGV[6] .. '|' .. qty .. '|' .. table.concat(labels, ',') .. '|' .. ARGV[3])
if keyed then
  rcall('HSET', KEYS[4], ARGV[4], ARGV[2] .. '|' .. ARGV[5], '\1' .. ARGV[2], ARGV[4])
end
if mode == 'best' then
  table.insert(labels, 1, 1)
  return labels
end
return {1}
