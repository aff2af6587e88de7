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

-- Best placement of n seats in one row's bytes: the orphan-free block nearest the centre if
-- there is one, else the block nearest the centre; returns its start seat and its run [a, e].
-- The search starts at the centre and walks outwards on both sides, jumping from fitting run
-- to fitting run with plain finds (in C), and stops on a side once a run there is too far
-- from the centre to beat the best found (wantStrict: the best orphan-free one).
local function place(row, perRow, n, wantStrict)
  local ideal = math.floor((perRow + 2 - n) / 2)
  local zeros = string.rep('0', n)
  local best = {strict = {}, any = {}}
  local function consider(a, e)
    local hi = e - n + 1
    local c = math.min(math.max(ideal, a), hi)
    for _, s in ipairs({c, c - 1, c + 1, c + 2, a, a + 2, hi, hi - 2}) do
      if s >= a and s <= hi then
        local d = math.abs(2 * s + n - 1 - (perRow + 1))
        local orphan = s - a == 1 or hi - s == 1
        for kind, slot in pairs(best) do
          if (kind == 'any' or not orphan) and (not slot.d or d < slot.d or (d == slot.d and s < slot.s)) then
            slot.s, slot.d, slot.a, slot.e = s, d, a, e
          end
        end
      end
    end
  end
  local function bound()
    if wantStrict then return best.strict.d end
    return best.any.d
  end
  -- The run holding the centre seat (or the first after it) and every run to its right.
  local back = string.find(string.reverse(string.sub(row, 1, ideal)), '1', 1, true)
  local start0 = back and (ideal - back + 2) or 1
  local pos = start0
  while true do
    local a = string.find(row, zeros, pos, true)
    if not a then break end
    local b = bound()
    if b and 2 * a + n - 1 - (perRow + 1) > b then break end
    local e = (string.find(row, '1', a + n, true) or (perRow + 1)) - 1
    consider(a, e)
    pos = e + 2
  end
  -- Runs ending before start0, nearest first, found in the reversed prefix.
  if start0 > 1 then
    local len0 = start0 - 1
    local rev = string.reverse(string.sub(row, 1, len0))
    pos = 1
    while true do
      local a2 = string.find(rev, zeros, pos, true)
      if not a2 then break end
      local e = len0 - a2 + 1
      local b = bound()
      if b and (perRow + 1) - (2 * e - n + 1) > b then break end
      local e2 = (string.find(rev, '1', a2 + n, true) or (len0 + 1)) - 1
      consider(len0 - e2 + 1, e)
      pos = e2 + 2
    end
  end
  local pick = best.strict.s and best.strict or best.any
  return pick.s, pick.a, pick.e
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
  local wantStrict = true
  local r = SI.leftmost(idx, P, function(mask, mx)
    return mx >= qty + 2 or (exact ~= nil and bit.band(mask, exact) ~= 0)
  end)
  if not r then
    -- No orphan-free block in the zone, as far as the mask can tell (it stops at 31).
    wantStrict = exact == nil
    r = SI.leftmost(idx, P, function(_, mx) return mx >= qty end)
  end
  if not r then
    local _, largest = SI.root(idx)
    return {-8, largest}
  end
  local row = rcall('GETRANGE', KEYS[7], (r - 1) * perRow, r * perRow - 1)
  local s, a, e = place(row, perRow, qty, wantStrict)
  if not s then return {-9} end
  for n = s, s + qty - 1 do labels[#labels + 1] = ARGV[6] .. '-' .. r .. '-' .. n end
  local states = rcall('HMGET', KEYS[5], unpack(labels))
  for _, state in ipairs(states) do
    if state ~= '' then return {-9} end
  end
  -- The row's new summary from its old one: run [a, e] splits into the two parts beside the
  -- block. Only losing the row's longest run can need a rescan of the row.
  local after = string.sub(row, 1, s - 1) .. string.rep('1', qty) .. string.sub(row, s + qty)
  local leaf = (P + r - 2) * 6
  local mask, mx = SI.dec(rcall('GETRANGE', idx, leaf, leaf + 5), 1)
  local len = e - a + 1
  if len == mx and not string.find(after, string.rep('0', len), 1, true) then
    mask, mx = SI.rowSummary(after)
  else
    local p = SI.POW[len]
    if p and not string.find('1' .. after .. '1', '1' .. string.rep('0', len) .. '1', 1, true) then mask = mask - p end
    for _, part in ipairs({s - a, e - (s + qty - 1)}) do
      local q = SI.POW[part]
      if q and bit.band(mask, q) == 0 then mask = mask + q end
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
