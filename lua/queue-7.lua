--[[
  The waiting room of one event. Every operation first advances admission to the Redis
  clock (TIME), so the outcome does not depend on how many processes call it, nor how often:
  admittedUpTo only ever follows elapsed time x rate, and nothing is admitted twice.

  Admission: `allowed` = floor((base + (now - since) x rate) / 1000) buyers may have been
  admitted since opening (base in thousandths, rebased on every pause / resume / rate
  change). Tickets are passed in number order; a holder seen within the idle window is
  admitted and uses one of `allowed`, a holder not seen for longer is skipped and uses none.
  Once every issued ticket is passed, or while the cap on live passes is full, unused
  allowance is dropped (at most one admission is banked), so a crowd arriving after a quiet
  spell, or places freed by a full cap, still go in at the rate.

  Lobby: a user who joins before opening is added to the `lobby` sorted set with a score the
  caller drew uniformly at random (53 bits, crypto); a score already taken is refused (return
  {-1}) and the caller draws again, so scores are distinct and their order is a uniform random
  permutation of the lobby, whatever the join order. Joining again never touches the score.
  Opening costs O(1): the first call at or after opening freezes the lobby (its size L) and
  ticket n <= L is the member of rank n-1; nothing is written per member. Later joiners get
  L+1, L+2, ... in the `order` list (FIFO).

  Cap: with maxActive > 0, `active` holds every live pass (user -> expiry ms); admission also
  stops while it holds maxActive members. A pass leaves it when it lapses or is ended.

  KEYS[1] state  hash open (ms), rate (per s), paused (0/1), since (ms), base (thousandths of
                 an admission allowed at `since`), count (admissions, skips excluded),
                 admitted (admittedUpTo: highest ticket number passed), issued (highest
                 ticket number), lobby (lobby size), shuffled (0/1: lobby frozen, i.e. the
                 draw is final), skipped (tickets skipped), ended (passes ended early)
  KEYS[2] lobby  sorted set user id -> random score (members joined before opening)
  KEYS[3] order  list: element n-L-1 is the user id holding ticket number n > L
  KEYS[4] users  hash userId -> "0" lobby (after opening: number = lobby rank + 1) |
                 "n" waiting | "n|a|<ms>" admitted at | "n|s" skipped | "n|e" pass ended
  KEYS[5] seen   hash userId -> last time (ms) the holder was seen
  KEYS[6] active sorted set userId -> pass expiry (ms): live passes (only with a cap)
  KEYS[7] ended  hash userId -> "d|<admittedAt>" spent / "r|<admittedAt>" revoked: the latest
                 pass of that user ended early (passes admitted at or before it are dead)

  ARGV[1] op: "advance" | "join" | "touch" | "control" | "end"
  ARGV[2] opening time (ms)    } only used to create a missing state,
  ARGV[3] admissions per second } from the event's settings in PostgreSQL
  ARGV[4] join: lobby score (integer 0 .. 2^53-1, decimal digits), else ignored
  ARGV[5] idle window (ms): a holder unseen for longer is skipped when reached
  ARGV[6] pass lifetime (ms): an admission older than this has lapsed
  ARGV[7] most tickets passed per call (bounds the script's run time)
  ARGV[8] most live passes at once (0: no cap)
  ARGV[9..] join: user id | touch: user ids | control: "pause" | "resume" | "rate", new rate
            | end: user id, "d" (spent: confirmed or cancelled) | "r" (revoked)

  Returns {now, admitted, issued, lobby, paused, rate, open, shuffled, skipped, count,
           created, status, number, admittedAt, active, ended}
    created / status / number / admittedAt only for join: created 1 (new ticket) / 0,
    status 0 lobby / 1 waiting / 2 admitted, ticket number (0 in the lobby), admission time
    (ms, 0 unless admitted). For end, created is 1 when a pass was ended and admittedAt is
    that pass's admission time. A user whose ticket was skipped or whose pass lapsed or
    ended is queued again at the back. {-1}: join drew a lobby score already taken.
]]
local rcall = redis.call
local op = ARGV[1]
local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle = tonumber(ARGV[5])
local passMs = tonumber(ARGV[6])
local maxScan = tonumber(ARGV[7])
local maxActive = tonumber(ARGV[8])

-- Integers as digits: Lua's default number format would turn large ones into exponents.
local function int(x) return string.format('%d', x) end

local FIELDS = {'open', 'rate', 'paused', 'since', 'base', 'count', 'admitted', 'issued',
  'lobby', 'shuffled', 'skipped', 'ended'}
local s = {}
if rcall('EXISTS', KEYS[1]) == 0 then
  s = {open = tonumber(ARGV[2]), rate = tonumber(ARGV[3]), paused = 0, since = tonumber(ARGV[2]),
    base = 0, count = 0, admitted = 0, issued = 0, lobby = 0, shuffled = 0, skipped = 0, ended = 0}
else
  local v = rcall('HMGET', KEYS[1], unpack(FIELDS))
  for i, name in ipairs(FIELDS) do s[name] = tonumber(v[i]) or 0 end
end

-- Thousandths of an admission allowed since opening, as of now.
local function allowedMilli()
  if s.paused == 1 or now <= s.since then return s.base end
  return s.base + (now - s.since) * s.rate
end

-- Live passes, counted exactly in O(log n); lapsed ones are cleared a bounded batch per call.
local function activeCount()
  if maxActive <= 0 then return 0 end
  local lapsed = rcall('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, 256)
  if #lapsed > 0 then rcall('ZREM', KEYS[6], unpack(lapsed)) end
  return rcall('ZCOUNT', KEYS[6], '(' .. int(now), '+inf')
end

-- The ticket number a "0" entry stands for once the lobby is frozen.
local function lobbyNumber(u)
  return rcall('ZRANK', KEYS[2], u) + 1
end

local function advance()
  if now < s.open and s.shuffled == 0 then return end
  if s.shuffled == 0 then
    -- Opening: the draw happened at join time; freezing it is one ZCARD.
    s.lobby = rcall('ZCARD', KEYS[2])
    s.issued = s.issued + s.lobby
    s.shuffled = 1
  end
  if s.paused == 1 then return end
  local allowed = math.floor(allowedMilli() / 1000)
  local budget = maxScan
  local cut = now - idle
  local free = 1
  if maxActive > 0 then free = maxActive - activeCount() end
  while s.count < allowed and s.admitted < s.issued and budget > 0 and free > 0 do
    local batch = math.min(s.issued - s.admitted, budget, 250)
    local ids
    if s.admitted < s.lobby then
      batch = math.min(batch, s.lobby - s.admitted)
      ids = rcall('ZRANGE', KEYS[2], s.admitted, s.admitted + batch - 1)
    else
      local from = s.admitted - s.lobby
      ids = rcall('LRANGE', KEYS[3], from, from + batch - 1)
    end
    local cur = rcall('HMGET', KEYS[4], unpack(ids))
    local seen = rcall('HMGET', KEYS[5], unpack(ids))
    local fields = {}
    for i, id in ipairs(ids) do
      if s.count >= allowed or free <= 0 then break end
      local n = s.admitted + 1
      s.admitted = n
      budget = budget - 1
      local v = cur[i]
      -- A user queued again holds a later number; this older one is simply passed.
      local current
      if n <= s.lobby then current = (v == '0') else current = v and v == int(n) end
      if current then
        if tonumber(seen[i] or '0') >= cut then
          s.count = s.count + 1
          fields[#fields + 1] = id
          fields[#fields + 1] = int(n) .. '|a|' .. int(now)
          if maxActive > 0 then
            rcall('ZADD', KEYS[6], now + passMs, id)
            free = free - 1
          end
        else
          s.skipped = s.skipped + 1
          fields[#fields + 1] = id
          fields[#fields + 1] = int(n) .. '|s'
        end
      end
    end
    if #fields > 0 then rcall('HSET', KEYS[4], unpack(fields)) end
  end
  local capped = maxActive > 0 and free <= 0 and s.admitted < s.issued
  if (s.admitted >= s.issued or capped) and now > s.since then
    -- Caught up, or held back by the cap: idle allowance is not banked beyond one admission.
    s.base = math.min(allowedMilli(), (s.count + 1) * 1000)
    s.since = now
  end
end

local created, status, number, admittedAt = 0, 1, 0, 0

-- Decided before any write: a taken lobby score makes the caller draw again.
if op == 'join' and now < s.open and s.shuffled == 0 and rcall('HEXISTS', KEYS[4], ARGV[9]) == 0 then
  if #rcall('ZRANGEBYSCORE', KEYS[2], ARGV[4], ARGV[4], 'LIMIT', 0, 1) > 0 then return {-1} end
end

advance()

local function requeue(u)
  s.issued = s.issued + 1
  rcall('RPUSH', KEYS[3], u)
  rcall('HSET', KEYS[4], u, int(s.issued))
  return s.issued
end

if op == 'join' then
  local u = ARGV[9]
  local v = rcall('HGET', KEYS[4], u)
  rcall('HSET', KEYS[5], u, int(now))
  local again = false
  if not v then
    created = 1
    if s.shuffled == 0 then
      rcall('ZADD', KEYS[2], ARGV[4], u)
      rcall('HSET', KEYS[4], u, '0')
      s.lobby = s.lobby + 1
      status = 0
    else
      again = true
    end
  elseif v == '0' then
    if s.shuffled == 0 then status = 0 else number = lobbyNumber(u) end
  else
    local n, kind, at = string.match(v, '^(%d+)|?(%a?)|?(%d*)$')
    number = tonumber(n)
    if kind == '' then
      status = 1
    elseif kind == 'a' and tonumber(at) + passMs > now then
      status = 2
      admittedAt = tonumber(at)
    else
      again = true
    end
  end
  if again then
    number = requeue(u)
    status = 1
    -- Admit at once if the allowance is there (an empty queue does not make anyone wait).
    advance()
    local after = rcall('HGET', KEYS[4], u)
    local at = string.match(after, '^%d+|a|(%d+)$')
    if at then
      status = 2
      admittedAt = tonumber(at)
    end
  end
elseif op == 'touch' then
  local fields = {}
  for k = 9, #ARGV do
    fields[#fields + 1] = ARGV[k]
    fields[#fields + 1] = int(now)
  end
  if #fields > 0 then rcall('HSET', KEYS[5], unpack(fields)) end
elseif op == 'control' then
  local what = ARGV[9]
  if what == 'pause' and s.paused == 0 then
    s.base = allowedMilli()
    s.paused = 1
  elseif what == 'resume' and s.paused == 1 then
    s.paused = 0
    s.since = math.max(now, s.open)
  elseif what == 'rate' then
    s.base = allowedMilli()
    s.since = math.max(now, s.open)
    s.rate = tonumber(ARGV[10])
  end
  advance()
elseif op == 'end' then
  local u, kind = ARGV[9], ARGV[10]
  local v = rcall('HGET', KEYS[4], u)
  local n, at = string.match(v or '', '^(%d+)|a|(%d+)$')
  -- Revocation applies to a lapsed pass too (its record is what a hold checks); a spend only to a live one.
  if n and (kind == 'r' or tonumber(at) + passMs > now) then
    rcall('HSET', KEYS[4], u, n .. '|e')
    rcall('HSET', KEYS[7], u, kind .. '|' .. at)
    rcall('ZREM', KEYS[6], u)
    s.ended = s.ended + 1
    created = 1
    admittedAt = tonumber(at)
    -- The freed place goes to the next buyer now, not at the next tick.
    advance()
  end
end

local out = {}
for _, name in ipairs(FIELDS) do
  out[#out + 1] = name
  out[#out + 1] = int(s[name])
end
rcall('HSET', KEYS[1], unpack(out))

local active = 0
if maxActive > 0 then active = rcall('ZCOUNT', KEYS[6], '(' .. int(now), '+inf') end
return {now, s.admitted, s.issued, s.lobby, s.paused, s.rate, s.open, s.shuffled, s.skipped,
  s.count, created, status, number, admittedAt, active, s.ended}
