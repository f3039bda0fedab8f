-- wrk script for bench/agent_routes.py: one scenario per run, a random seeded user per request.
--
-- Environment: BENCH_DATA (a Lua file returning {users = {...}, scenarios = {...}}: each
-- user's token, each scenario's method, path and body, made by bench/agent_routes.py),
-- BENCH_SCENARIO (a key of scenarios), BENCH_OUT (where done() writes a JSON summary).
--
-- A scenario with `expect` counts as bad every answer whose body lacks that text: an MCP
-- tool call answers 200 even when the tool refused (`"isError":true`) or the JSON-RPC
-- request failed (`"error"`), so the status alone says nothing.

local name = os.getenv("BENCH_SCENARIO")
local out_file = os.getenv("BENCH_OUT")
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

statuses = {}
bad = 0
local users, scenario
local random = math.random

function init(args)
   local data = dofile(os.getenv("BENCH_DATA"))
   users, scenario = data.users, data.scenarios[name]
   assert(scenario, "no scenario " .. tostring(name))
   for _, u in ipairs(users) do
      local headers = { ["Authorization"] = "Bearer " .. u.token }
      for key, value in pairs(scenario.headers or {}) do headers[key] = value end
      u.headers = headers
   end
   math.randomseed(os.time())
end

function request()
   local u = users[random(#users)]
   return wrk.format(scenario.method, scenario.path, u.headers, scenario.body)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   local expect = scenario.expect
   if expect and not (body and body:find(expect, 1, true)) then bad = bad + 1 end
end

function done(summary, latency, requests)
   local counts, wrong = {}, 0
   for _, t in ipairs(threads) do
      for status, n in pairs(t:get("statuses")) do counts[status] = (counts[status] or 0) + n end
      wrong = wrong + t:get("bad")
   end
   local parts = {}
   for status, n in pairs(counts) do table.insert(parts, string.format('"%d": %d', status, n)) end
   local e = summary.errors
   local f = assert(io.open(out_file, "w"))
   f:write(string.format(
      '{"requests": %d, "duration_us": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d, '
         .. '"mean_us": %.1f, "bad_bodies": %d, "statuses": {%s}}\n',
      summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
      latency:percentile(50), latency:percentile(99), latency.mean, wrong, table.concat(parts, ", ")))
   f:close()
end
