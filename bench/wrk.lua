-- wrk script for bench/run.py: one scenario per run, a random seeded user per request.
--
-- Environment: BENCH_DATA (a Lua file returning {users = {...}, bodies = {...}}),
-- BENCH_SCENARIO (list | list-deep | get | create | toggle | update | mixed |
-- changes | bulk-complete | list-in-list | page-1 | page-1000 | search-plain |
-- search-crafted),
-- BENCH_OUT (where done() writes a JSON summary).

local scenario = os.getenv("BENCH_SCENARIO")
local out_file = os.getenv("BENCH_OUT")
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

statuses = {}
local users, bodies
local random = math.random

function init(args)
   local data = dofile(os.getenv("BENCH_DATA"))
   users, bodies = data.users, data.bodies
   for _, u in ipairs(users) do
      u.get = { ["Authorization"] = "Bearer " .. u.token }
      u.json = { ["Authorization"] = "Bearer " .. u.token, ["Content-Type"] = "application/json" }
   end
   math.randomseed(os.time())
end

local function user() return users[random(#users)] end
local function task(u) return "/api/me/tasks/" .. u.tasks[random(#u.tasks)] end

local make = {}
make["list"] = function() local u = user(); return wrk.format("GET", "/api/me/tasks?limit=50", u.get) end
make["list-deep"] = function() local u = user(); return wrk.format("GET", u.deep, u.get) end
make["get"] = function() local u = user(); return wrk.format("GET", task(u), u.get) end
make["create"] = function()
   local u = user(); return wrk.format("POST", "/api/me/tasks", u.json, bodies[random(#bodies)])
end
make["toggle"] = function() local u = user(); return wrk.format("PATCH", task(u) .. "/complete", u.get, "") end
make["update"] = function()
   local u = user(); return wrk.format("PUT", task(u), u.json, bodies[random(#bodies)])
end
make["mixed"] = function()
   local r = random(100)
   if r <= 40 then return make["list"]()
   elseif r <= 80 then return make["get"]()
   elseif r <= 90 then return make["toggle"]()
   elseif r <= 95 then return make["update"]()
   else return make["create"]() end
end
make["changes"] = function()
   local u = user(); return wrk.format("GET", "/api/me/changes?since=" .. u.since, u.get)
end
make["bulk-complete"] = function()
   local u = user(); return wrk.format("POST", "/api/me/tasks/bulk", u.json, u.bulk[random(2)])
end
make["list-in-list"] = function() local u = user(); return wrk.format("GET", u.in_list, u.get) end
make["page-1"] = function() local u = users[1]; return wrk.format("GET", u.first, u.get) end
make["page-1000"] = function() local u = users[1]; return wrk.format("GET", u.deep, u.get) end
make["search-plain"] = make["page-1"]
make["search-crafted"] = make["page-1000"]

request = make[scenario]

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, t in ipairs(threads) do
      for status, n in pairs(t:get("statuses")) do counts[status] = (counts[status] or 0) + n end
   end
   local parts = {}
   for status, n in pairs(counts) do table.insert(parts, string.format('"%d": %d', status, n)) end
   local e = summary.errors
   local f = assert(io.open(out_file, "w"))
   f:write(string.format(
      '{"requests": %d, "duration_us": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d, "statuses": {%s}}\n',
      summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
      latency:percentile(50), latency:percentile(99), table.concat(parts, ", ")))
   f:close()
end
