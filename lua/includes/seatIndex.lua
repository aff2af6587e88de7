--[[
  Seat index of a seated zone, shared by every script that takes or frees a seat
  (spliced in where a script says `--- @include "seatIndex"`).

  free   string, one byte per seat in row-major order: "0" free, "1" held or sold.
         Seat n of row r is byte (r-1)*perRow + (n-1).
  index  string, a segment tree over rows. Node i (root 1, children 2i and 2i+1, leaf of row r
         = P+r-1, P = leaves, a power of two >= rows) is 6 bytes at offset (i-1)*6: a 31-bit
         mask (bit k-1 set when a run of exactly k free seats exists below, k <= 31) and the
         longest free run below (16 bits). Leaves past the last row stay zero.

  Why: finding the front-most row that fits a block, or changing a row, touches one node per
  level (O(log rows) calls of a few bytes) plus one scan of that row (O(perRow), in C through
  string.gmatch). The cost never depends on the zone's size beyond log(rows).
]]
local SI = {}
SI.POW = {}
for k = 1, 31 do SI.POW[k] = 2 ^ (k - 1) end

function SI.enc(mask, mx)
  return string.char(math.floor(mask / 16777216) % 256, math.floor(mask / 65536) % 256,
    math.floor(mask / 256) % 256, mask % 256, math.floor(mx / 256) % 256, mx % 256)
end

-- Node at byte o (1-based) of s: mask, longest run.
function SI.dec(s, o)
  local a, b, c, d, e, f = string.byte(s, o, o + 5)
  if not f then return 0, 0 end
  return ((a * 256 + b) * 256 + c) * 256 + d, e * 256 + f
end

-- Summary (mask, longest) of one row's bytes.
function SI.rowSummary(row)
  local mask, mx = 0, 0
  for a, b in string.gmatch(row, '()0+()') do
    local len = b - a
    if len > mx then mx = len end
    local p = SI.POW[len]
    if p and bit.band(mask, p) == 0 then mask = mask + p end
  end
  return mask, mx
end

-- Writes consecutive leaves (rows r1..) and recomputes their ancestors level by level.
function SI.writeLeaves(idx, P, r1, leaves)
  local lo = P + r1 - 1
  local hi = lo + #leaves / 6 - 1
  redis.call('SETRANGE', idx, (lo - 1) * 6, leaves)
  while lo > 1 do
    local plo, phi = math.floor(lo / 2), math.floor(hi / 2)
    local kids = redis.call('GETRANGE', idx, (2 * plo - 1) * 6, (2 * phi + 1) * 6 - 1)
    local out = {}
    for p = plo, phi do
      local o = (p - plo) * 12 + 1
      local lm, lx = SI.dec(kids, o)
      local rm, rx = SI.dec(kids, o + 6)
      out[#out + 1] = SI.enc(bit.bor(lm, rm), math.max(lx, rx))
    end
    redis.call('SETRANGE', idx, (plo - 1) * 6, table.concat(out))
    lo, hi = plo, phi
  end
end

function SI.root(idx)
  return SI.dec(redis.call('GETRANGE', idx, 0, 5), 1)
end

-- Front-most row whose subtree satisfies pred(mask, longest), or nil.
function SI.leftmost(idx, P, pred)
  if not pred(SI.root(idx)) then return nil end
  local i = 1
  while i < P do
    local kids = redis.call('GETRANGE', idx, (2 * i - 1) * 6, (2 * i + 1) * 6 - 1)
    if pred(SI.dec(kids, 1)) then i = 2 * i else i = 2 * i + 1 end
  end
  return i - P + 1
end

-- Sets the bytes of these seat labels to ch ("0"/"1") and refreshes each row touched once.
function SI.mark(free, idx, P, perRow, labels, ch)
  local rows = {}
  for _, label in ipairs(labels) do
    local r, n = string.match(label, '%-(%d+)%-(%d+)$')
    r, n = tonumber(r), tonumber(n)
    redis.call('SETRANGE', free, (r - 1) * perRow + n - 1, ch)
    rows[r] = true
  end
  for r in pairs(rows) do
    local row = redis.call('GETRANGE', free, (r - 1) * perRow, r * perRow - 1)
    SI.writeLeaves(idx, P, r, SI.enc(SI.rowSummary(row)))
  end
end
