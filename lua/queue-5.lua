--[[
  The waiting room of one event. Every operation first advances admission to the Redis
  clock (TIME), so the outcome does not depend on how many processes call it, nor how often:
  admittedUpTo only ever follows elapsed time x rate, and nothing is admitted twice.

  Admission: `allowed` = floor((base + (now - since) x rate) / 1000) buyers may have been
  admitted since opening (base in thousandths, rebased on every pause / resume / rate
  change). Tickets are passed in number order; a holder seen within the idle window is
  admitted and uses one of `allowed`, a holder not seen for longer is skipped and uses none.
  Once every issued ticket is passed, unused allowance is dropped (at most one admission is
  banked), so a crowd arriving after a quiet spell still goes in at the rate.

  Lobby: users who join before opening wait in `lobby`; the first call at or after opening
  shuffles them once (Fisher-Yates, seeded by the caller) and numbers them 1..L; later
  joiners get L+1, L+2, ... (FIFO).

  KEYS[1] state  hash open (ms), rate (per s), paused (0/1), since (ms), base (thousandths of
                 an admission allowed at `since`), count (admissions, skips excluded),
                 admitted (admittedUpTo: highest ticket number passed), issued (highest
                 ticket number), lobby (lobby size), shuffled (0/1), skipped (tickets skipped)
  KEYS[2] lobby  list of user ids who joined before opening, in join order
  KEYS[3] order  list: element n-1 is the user id holding ticket number n
  KEYS[4] users  hash userId -> "0" lobby | "n" waiting | "n|a|<ms>" admitted at | "n|s" skipped
  KEYS[5] seen   hash userId -> last time (ms) the holder was seen

  ARGV[1] op: "advance" | "join" | "touch" | "control"
  ARGV[2] opening time (ms)    } only used to create a missing state,
  ARGV[3] admissions per second } from the event's settings in PostgreSQL
  ARGV[4] shuffle seed (a fresh random integer per call)
  ARGV[5] idle window (ms): a holder unseen for longer is skipped when reached
  ARGV[6] pass lifetime (ms): an admission older than this has lapsed
  ARGV[7] most tickets passed per call (bounds the script's run time)
  ARGV[8..] join: user id | touch: user ids | control: "pause" | "resume" | "rate", new rate

  Returns {now, admitted, issued, lobby, paused, rate, open, shuffled, skipped, count,
           created, status, number, admittedAt}
    the last four only for join: created 1 (new ticket) / 0, status 0 lobby / 1 waiting /
    2 admitted, ticket number (0 in the lobby), admission time (ms, 0 unless admitted).
    A user whose ticket was skipped or whose admission lapsed is queued again at the back.
]]
local rcall = redis.call
local op = ARGV[1]
local t = rcall('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle = tonumber(ARGV[5])
local passMs = tonumber(ARGV[6])
local maxScan = tonumber(ARGV[7])

-- Integers as digits: Lua's default number format would turn large ones into exponents.
local function int(x) return string.format('%d', x) end

local FIELDS = {'open', 'rate', 'paused', 'since', 'base', 'count', 'admitted', 'issued',
  'lobby', 'shuffled', 'skipped'}
local s = {}
if rcall('EXISTS', KEYS[1]) == 0 then
  s = {open = tonumber(ARGV[2]), rate = tonumber(ARGV[3]), paused = 0, since = tonumber(ARGV[2]),
    base = 0, count = 0, admitted = 0, issued = 0, lobby = 0, shuffled = 0, skipped = 0}
else
  local v = rcall('HMGET', KEYS[1], unpack(FIELDS))
  for i, name in ipairs(FIELDS) do s[name] = tonumber(v[i]) end
end

-- Thousandths of an admission allowed since opening, as of now.
local function allowedMilli()
  if s.paused == 1 or now <= s.since then return s.base end
  return s.base + (now - s.since) * s.rate
end

local function shuffleLobby()
  local ids = rcall('LRANGE', KEYS[2], 0, -1)
  math.randomseed(tonumber(ARGV[4]))
  for i = #ids, 2, -1 do
    local j = math.random(i)
    ids[i], ids[j] = ids[j], ids[i]
  end
  for i = 1, #ids, 1000 do
    local last = math.min(i + 999, #ids)
    local fields = {}
    for k = i, last do
      fields[#fields + 1] = ids[k]
      fields[#fields + 1] = int(s.issued + k)
    end
    rcall('RPUSH', KEYS[3], unpack(ids, i, last))
    rcall('HSET', KEYS[4], unpack(fields))
  end
  s.issued = s.issued + #ids
  s.lobby = #ids
  s.shuffled = 1
  rcall('DEL', KEYS[2])
end

local function advance()
  if now < s.open then return end
  if s.shuffled == 0 then shuffleLobby() end
  if s.paused == 1 then return end
  local allowed = math.floor(allowedMilli() / 1000)
  local budget = maxScan
  local cut = now - idle
  while s.count < allowed and s.admitted < s.issued and budget > 0 do
    local batch = math.min(s.issued - s.admitted, budget, 500)
    local ids = rcall('LRANGE', KEYS[3], s.admitted, s.admitted + batch - 1)
    local cur = rcall('HMGET', KEYS[4], unpack(ids))
    local seen = rcall('HMGET', KEYS[5], unpack(ids))
    local fields = {}
    for i, id in ipairs(ids) do
      if s.count >= allowed then break end
      local n = s.admitted + 1
      s.admitted = n
      budget = budget - 1
      local v = cur[i]
      -- A user queued again holds a later number; this older one is simply passed.
      if v and tonumber(string.match(v, '^%d+')) == n then
        if tonumber(seen[i] or '0') >= cut then
          s.count = s.count + 1
          fields[#fields + 1] = id
          fields[#fields + 1] = int(n) .. '|a|' .. int(now)
        else
          s.skipped = s.skipped + 1
          fields[#fields + 1] = id
          fields[#fields + 1] = int(n) .. '|s'
        end
      end
    end
    if #fields > 0 then rcall('HSET', KEYS[4], unpack(fields)) end
  end
  if s.admitted >= s.issued and now > s.since then
    -- Caught up: idle allowance is not banked beyond one admission.
    s.base = math.min(allowedMilli(), (s.count + 1) * 1000)
    s.since = now
  end
end

local created, status, number, admittedAt = 0, 1, 0, 0

advance()

if op == 'join' then
  local u = ARGV[8]
  local v = rcall('HGET', KEYS[4], u)
  rcall('HSET', KEYS[5], u, int(now))
  local requeue = false
  if not v then
    created = 1
    if now < s.open then
      rcall('RPUSH', KEYS[2], u)
      rcall('HSET', KEYS[4], u, '0')
      s.lobby = s.lobby + 1
      status = 0
    else
      requeue = true
    end
  elseif v == '0' then
    status = 0
  else
    local n, kind, at = string.match(v, '^(%d+)|?(%a?)|?(%d*)$')
    number = tonumber(n)
    if kind == '' then
      status = 1
    elseif kind == 'a' and tonumber(at) + passMs > now then
      status = 2
      admittedAt = tonumber(at)
    else
      requeue = true
    end
  end
  if requeue then
    s.issued = s.issued + 1
    number = s.issued
    status = 1
    rcall('RPUSH', KEYS[3], u)
    rcall('HSET', KEYS[4], u, int(number))
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
  for i = 8, #ARGV, 1000 do
    local last = math.min(i + 999, #ARGV)
    local fields = {}
    for k = i, last do
      fields[#fields + 1] = ARGV[k]
      fields[#fields + 1] = int(now)
    end
    rcall('HSET', KEYS[5], unpack(fields))
  end
elseif op == 'control' then
  local what = ARGV[8]
  if what == 'pause' and s.paused == 0 then
    s.base = allowedMilli()
    s.paused = 1
  elseif what == 'resume' and s.paused == 1 then
    s.paused = 0
    s.since = math.max(now, s.open)
  elseif what == 'rate' then
    s.base = allowedMilli()
    s.since = math.max(now, s.open)
    s.rate = tonumber(ARGV[9])
  end
  advance()
end

local out = {}
for _, name in ipairs(FIELDS) do
  out[#out + 1] = name
  out[#out + 1] = int(s[name])
end
rcall('HSET', KEYS[1], unpack(out))

return {now, s.admitted, s.issued, s.lobby, s.paused, s.rate, s.open, s.shuffled, s.skipped,
  s.count, created, status, number, admittedAt}
