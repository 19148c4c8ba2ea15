-- wrk script for the answer-save benchmark (bench/run_bench.py drives it).
--   wrk -t N -c N -s bench/save.lua URL -- SESSIONS.tsv MODE SEQ_BASE ACK_DIR N
-- MODE is "save" (POST .../item/<pos>/save/), "bare" (POST /bench/bare/<attempt>/), "floor"
-- (the save's request, sent to bench/floor.py), "visit" (POST .../item/<pos>/visit/) or
-- "clock" (GET .../clock/).
-- Run with as many threads as connections: each thread then owns one connection and a
-- disjoint set of attempts, so response() always answers the last request() of its thread and
-- every acknowledged save can be logged as (attempt index, position, seq, choice) and checked
-- against the database afterwards.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local rows, mine = {}, {}
local mode, seq, i, ackf, pending
local ITEMS = 40

function init(args)
  local nthreads
  mode = args[2]
  seq = tonumber(args[3])
  local n = 0
  for line in io.lines(args[1]) do
    local user, sess, csrf, attempt = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)")
    rows[n] = { sess = sess, csrf = csrf, attempt = attempt }
    n = n + 1
  end
  -- tid is set by setup() before init() runs in the thread's own Lua state.
  nthreads = tonumber(args[5]) or 1
  for k = 0, n - 1 do
    if k % nthreads == tid then table.insert(mine, k) end
  end
  i = 0
  if (mode == "save" or mode == "floor") and args[4] then
    ackf = io.open(args[4] .. "/acks-" .. tid .. ".log", "w")
    ackf:setvbuf("line")
  end
end

function request()
  local k = mine[(i % #mine) + 1]
  local pos = (math.floor(i / #mine) % ITEMS) + 1
  i = i + 1
  seq = seq + 1
  local r = rows[k]
  local choice = seq % 5
  local headers = {
    ["Cookie"] = "sessionid=" .. r.sess .. "; csrftoken=" .. r.csrf,
    ["X-CSRFToken"] = r.csrf,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }
  if mode == "bare" then
    pending = nil
    return wrk.format("POST", "/bench/bare/" .. r.attempt .. "/", headers, "")
  end
  if mode == "visit" then
    pending = nil
    return wrk.format("POST", "/exams/a/" .. r.attempt .. "/item/" .. pos .. "/visit/", headers, "")
  end
  if mode == "clock" then
    pending = nil
    return wrk.format("GET", "/exams/a/" .. r.attempt .. "/clock/", headers)
  end
  pending = k .. " " .. pos .. " " .. seq .. " " .. choice .. "\n"
  return wrk.format("POST", "/exams/a/" .. r.attempt .. "/item/" .. pos .. "/save/", headers,
    "seq=" .. seq .. "&choice=" .. choice)
end

function response(status, headers, body)
  if ackf and pending and status >= 200 and status < 300 then
    ackf:write(pending)
  end
  pending = nil
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_s": %.3f, "rps": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, ' ..
    '"p99_ms": %.2f, "max_ms": %.2f, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
