-- Update checks from 100,000 seeded devices: half are on the published build (204), half on
-- an older one (200 with an offer).
local counter = 0
request = function()
  counter = counter + 1
  local n = math.random(0, 99999)
  -- build i is dated 2026, month 1 + floor((i-1)/28), day 1 + (i-1)%28 (as bench/run.sh)
  local i = 50
  if n % 2 == 1 then i = (n % 49) + 1 end
  local version = string.format("master-2026-%02d-%02d-%d", 1 + math.floor((i - 1) / 28), 1 + (i - 1) % 28, i)
  local path = "/v1/upgrade?arch=rpi3&branch=stable&boardversion=" .. version ..
    "&uuid=device-" .. n .. "&user=bench@example.org"
  return wrk.format("GET", path)
end
