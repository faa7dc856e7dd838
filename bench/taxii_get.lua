-- taxii_get.lua - wrk script for bench/taxii.sh: GET one page of objects
-- (limit 100) from a random place in the collection, as TAXII clients
-- that poll with added_after do.  Environment: KASA_TOKEN (a bearer
-- token), KASA_FIRST_US and KASA_LAST_US (the collection's first and last
-- date_added, microseconds), KASA_PATH (the objects URL path).
local token = os.getenv("KASA_TOKEN")
local first = tonumber(os.getenv("KASA_FIRST_US"))
local last = tonumber(os.getenv("KASA_LAST_US"))
local path = os.getenv("KASA_PATH")
local errors = 0

function init(args)
   math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
end

local function stamp(us)
   local sec = math.floor(us / 1000000)
   return os.date("!%Y-%m-%dT%H:%M:%S", sec) ..
      string.format(".%06dZ", us - sec * 1000000)
end

function request()
   local at = first + math.floor(math.random() * (last - first) * 0.99)
   return wrk.format("GET", path .. "?limit=100&added_after=" .. stamp(at), {
      ["Authorization"] = "Bearer " .. token,
      ["Accept"] = "application/taxii+json;version=2.1",
   })
end

function response(status, headers, body)
   if status ~= 200 then
      errors = errors + 1
      if errors <= 3 then
         io.stderr:write("unexpected status " .. status .. ": " ..
                         body:sub(1, 200) .. "\n")
      end
   end
end
