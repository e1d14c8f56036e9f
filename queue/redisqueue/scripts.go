package redisqueue

import "github.com/redis/go-redis/v9"

// Lua scripts. Every script that reads, acknowledges or dead-letters
// entries of a shard first checks that the caller's lease value is still
// the one in Redis: that check and the change are atomic, so a consumer
// that lost its lease (paused, partitioned, presumed dead) can neither
// take entries into the pending list nor settle them. A lease value is
// "<consumer>|<fencing token>|<acquired unix ms>"; the token comes from
// HINCRBY on the fence hash, so every acquisition has a new value even
// by the same consumer.

// luaChunked defines xcall(cmd, key, fixed, list, from): it calls cmd
// with the elements list[from..] in chunks (unpack has a stack limit) and
// returns the sum of integer replies.
const luaChunked = `
local function xcall(cmd, key, fixed, list, from)
  local total = 0
  local i = from
  while i <= #list do
    local j = math.min(i + 999, #list)
    local r
    if fixed then
      r = redis.call(cmd, key, fixed, unpack(list, i, j))
    else
      r = redis.call(cmd, key, unpack(list, i, j))
    end
    total = total + r
    i = j + 1
  end
  return total
end
`

// acquire: KEYS lease, fence; ARGV consumer, ttl ms, now ms, shard.
// Returns the new lease value, or false when the shard is leased.
var scriptAcquire = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local t = redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
local v = ARGV[1] .. '|' .. t .. '|' .. ARGV[3]
redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
return v
`)

// renew: KEYS leases…; ARGV ttl ms, values… Returns 1/0 per lease.
var scriptRenew = redis.NewScript(`
local out = {}
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i + 1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`)

// release: KEYS lease, inflight; ARGV value, shard. Returns 1 if released.
var scriptRelease = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
`)

// heartbeat: KEYS consumers; ARGV consumer, ttl ms, leave (1 = remove).
// Registers the consumer until now+ttl (server clock), drops expired
// ones and returns how many are live.
var scriptHeartbeat = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == '1' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 4)
return redis.call('ZCARD', KEYS[1])
`)

// enqueue: KEYS producer set, streams…; ARGV round trip seq, entries
// kept, ttl ms, then (stream index in KEYS, encoded hit) pairs. Adds the
// entries unless the round trip was applied before (a client retry after a
// lost reply), and records it. Returns 1, or 0 when already applied.
var scriptEnqueue = redis.NewScript(enqueueSource)

const enqueueSource = `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
for i = 4, #ARGV, 2 do
  redis.call('XADD', KEYS[tonumber(ARGV[i])], '*', 'h', ARGV[i + 1])
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[1])
if tonumber(ARGV[1]) % 64 == 1 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[2]) - 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`

// enqueueSpooled: KEYS spool cursor, streams…; ARGV the batch's highest
// record seq, ttl ms, then (stream index, encoded hit) pairs. Adds the
// entries unless the cursor already covers the batch, and moves the
// cursor. Returns 1, or 0 when already applied.
var scriptEnqueueSpooled = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur >= tonumber(ARGV[1]) then return 0 end
for i = 3, #ARGV, 2 do
  redis.call('XADD', KEYS[tonumber(ARGV[i])], '*', 'h', ARGV[i + 1])
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// read: KEYS lease, stream, inflight; ARGV value, group, consumer, count,
// isolate-after, shard.
//
// The caller has no outstanding delivery of the shard, so every entry in
// the shard's pending list (PEL) is due again: nacked, timed out, held by
// a dead consumer, or read by a call whose reply was lost. The PEL is
// therefore always read first, from its start, in ID order; new entries
// (">") only when it is empty. When the first pending entry has been
// delivered isolate-after times it is returned alone.
//
// Returns {-1} when the lease is lost; {0, newest ID} when there is
// nothing to deliver; {2} when only deleted pending entries were found
// (acknowledged now); else {1, attempt, history (1/0), last ID, id,
// value, id, value, …}.
var scriptRead = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1} end
local n = tonumber(ARGV[4])
local attempt = 1
local hist = 0
local res = false
local p = redis.call('XPENDING', KEYS[2], ARGV[2], '-', '+', 1, ARGV[3])
if #p > 0 then
  local count = tonumber(p[1][4])
  attempt = count + 1
  if count >= tonumber(ARGV[5]) then n = 1 end
  hist = 1
  res = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', n, 'STREAMS', KEYS[2], '0')
end
if hist == 0 then
  res = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', n, 'STREAMS', KEYS[2], '>')
end
local out = {1, attempt, hist, ''}
local gone = {}
if res and res[1] then
  for _, e in ipairs(res[1][2]) do
    out[4] = e[1]
    local v = false
    if e[2] then
      for i = 1, #e[2], 2 do
        if e[2][i] == 'h' then v = e[2][i + 1] end
      end
    end
    if v then
      out[#out + 1] = e[1]
      out[#out + 1] = v
    else
      gone[#gone + 1] = e[1]
    end
  end
end
if #gone > 0 then
  redis.call('XACK', KEYS[2], ARGV[2], unpack(gone))
  redis.call('XDEL', KEYS[2], unpack(gone))
end
if #out > 4 then
  redis.call('HSET', KEYS[3], ARGV[6], (#out - 4) / 2)
  return out
end
if hist == 1 then
  return {2}
end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last > 0 then return {0, last[1][1]} end
return {0, '0-0'}
`)

// ack: KEYS lease, stream, inflight; ARGV value, group, shard, ids…
// Acknowledges and deletes the entries. Returns -1 if the lease is lost.
var scriptAck = redis.NewScript(luaChunked + `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local n = xcall('XACK', KEYS[2], ARGV[2], ARGV, 4)
xcall('XDEL', KEYS[2], nil, ARGV, 4)
redis.call('HDEL', KEYS[3], ARGV[3])
return n
`)

// nack: KEYS lease, inflight; ARGV value, shard. The entries stay pending
// (and are read again from history). Returns -1 if the lease is lost.
var scriptNack = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
`)

// deadLetter: KEYS lease, stream, inflight, dlq; ARGV value, group, shard,
// in-flight left, cause, shard name, then (id, encoded hit) pairs.
// Moves the entries to the dead-letter stream and acknowledges them.
// Returns -1 if the lease is lost.
var scriptDeadLetter = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
for i = 7, #ARGV, 2 do
  redis.call('XADD', KEYS[4], '*', 'h', ARGV[i + 1], 'e', ARGV[5], 's', ARGV[6], 'i', ARGV[i])
  redis.call('XACK', KEYS[2], ARGV[2], ARGV[i])
  redis.call('XDEL', KEYS[2], ARGV[i])
end
if tonumber(ARGV[4]) > 0 then
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
else
  redis.call('HDEL', KEYS[3], ARGV[3])
end
return 1
`)

// replayDead: KEYS dlq, stream; ARGV dead-letter ID. Moves the entry back
// to the end of its shard's stream. Returns the new ID, or false when the
// entry is gone.
var scriptReplayDead = redis.NewScript(`
local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #e == 0 then return false end
local f = e[1][2]
for i = 1, #f, 2 do
  if f[i] == 'h' then
    local id = redis.call('XADD', KEYS[2], '*', 'h', f[i + 1])
    redis.call('XDEL', KEYS[1], ARGV[1])
    return id
  end
end
redis.call('XDEL', KEYS[1], ARGV[1])
return false
`)
