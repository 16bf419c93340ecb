-- wrk script: NDJSON batches of 1,000 events (~300 bytes each) of
-- background traffic that raises no alert: web requests and firewall
-- accepts, and 1 event in 50 a failed SSH login from an address never seen
-- before (every request gets fresh addresses). Usage:
--   RAMPART_TOKEN=rk_… wrk -t2 -c8 -d20s -s scripts/wrk-background.lua http://127.0.0.1:8080
-- STORM=1 instead makes a third of the events failed logins from 2,000
-- repeating sources (an alert storm).
local token = os.getenv("RAMPART_TOKEN") or ""
local storm = os.getenv("STORM") == "1"
local counter = 0
local thread_seed = 0
local template
local slots

function setup(thread)
  thread_seed = thread_seed + 1
  thread:set("seed", thread_seed)
end

local function build()
  local lines = {}
  slots = 0
  for i = 1, 1000 do
    local failure = storm and (i % 3 == 0) or (not storm and i % 50 == 0)
    if failure then
      slots = slots + 1
      lines[i] = '{"event":{"category":"authentication","action":"ssh_login","outcome":"failure"},"source":{"ip":"%s","port":' .. (40000 + i) .. '},"host":{"name":"bastion-1"},"user":{"name":"root"},"message":"Failed password for root from %s port ' .. (40000 + i) .. ' ssh2"}'
    elseif i % 2 == 0 then
      lines[i] = '{"event":{"category":"web","action":"http_request","outcome":"success","severity":1},"source":{"ip":"198.18.' .. (i % 250) .. '.' .. (i % 200) .. '"},"host":{"name":"web-' .. (i % 8) .. '"},"url":{"full":"https://shop.example.com/items/' .. i .. '?ref=mail"},"http":{"response":{"status_code":200}},"message":"GET /items/' .. i .. '"}'
    else
      lines[i] = '{"event":{"category":"network","action":"firewall_accept","outcome":"success","severity":1},"source":{"ip":"198.19.' .. (i % 250) .. '.' .. (i % 200) .. '","port":' .. (1024 + i) .. '},"destination":{"ip":"192.0.2.10","port":443},"host":{"name":"fw-1"},"message":"ACCEPT IN=eth0 DPT=443"}'
    end
  end
  template = table.concat(lines, "\n") .. "\n"
end

function request()
  if template == nil then build() end
  counter = counter + 1
  local ips = {}
  for k = 1, slots do
    local ip
    if storm then
      local n = (counter * 7 + k) % 2000
      ip = string.format("203.0.%d.%d", math.floor(n / 250), n % 250)
    else
      local n = counter * slots + k
      ip = string.format("10.%d.%d.%d", (seed or 1) * 16 + math.floor(n / 65536) % 16, math.floor(n / 256) % 256, n % 256)
    end
    ips[2 * k - 1] = ip
    ips[2 * k] = ip
  end
  local body = string.format(template, (table.unpack or unpack)(ips))
  return wrk.format("POST", "/api/v1/events", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/x-ndjson",
  }, body)
end

local accepted_ok = 0
function response(status, headers, body)
  if status ~= 202 then
    io.stderr:write("status " .. status .. ": " .. body:sub(1, 200) .. "\n")
  end
end
