-- taxii_post.lua - wrk script for bench/taxii.sh: POST envelopes of 1,000
-- new indicators each (ids made from the thread and a counter, so that
-- nothing is a duplicate).  Environment: KASA_TOKEN, KASA_PATH.
local token = os.getenv("KASA_TOKEN")
local path = os.getenv("KASA_PATH")
local counter = 0
local thread_no = 0
local errors = 0
local n = 1000

function setup(thread)
   thread_no = thread_no + 1
   thread:set("thread_no", thread_no)
end

function init(args)
   counter = 0
end

local head = '{"type":"indicator","spec_version":"2.1","id":"indicator--'
local mid = '","created":"2026-01-01T00:00:00.000Z",' ..
   '"modified":"2026-01-01T00:00:00.000Z","pattern_type":"stix",' ..
   '"valid_from":"2026-01-01T00:00:00Z","pattern":"[ipv4-addr:value = \''

function request()
   local parts = {}
   counter = counter + 1
   for i = 1, n do
      local k = counter * n + i
      local f = math.floor
      local id = string.format("%08x-%04x-4%03x-8%03x-%012x",
                               os.time() % 4294967296, thread_no % 65536,
                               f(k / 4096) % 4096, k % 4096,
                               k * 7919 % 281474976710656)
      parts[i] = head .. id .. mid ..
         string.format("10.%d.%d.%d", f(k / 65536) % 256, f(k / 256) % 256,
                       k % 256) .. "\']\"}"
   end
   local body = '{"objects":[' .. table.concat(parts, ",") .. ']}'
   return wrk.format("POST", path, {
      ["Authorization"] = "Bearer " .. token,
      ["Accept"] = "application/taxii+json;version=2.1",
      ["Content-Type"] = "application/taxii+json;version=2.1",
   }, body)
end

function response(status, headers, body)
   if status ~= 202 or not body:find('"failure_count":0', 1, true) then
      errors = errors + 1
      if errors <= 3 then
         io.stderr:write("unexpected answer " .. status .. ": " ..
                         body:sub(1, 300) .. "\n")
      end
   end
end
