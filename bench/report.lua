-- Device reports as the seed writes them (uuid as a number with a leading zero).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local n = math.random(0, 99999)
  local body = '{ "board": "rpi3", "uuid": 0' .. n .. ', "user": "bench@example.org", ' ..
    '"boardversion": "master-2026-02-22-50", "branch": "stable", "updateTimeInSeconds": 286, "status": "OK" }'
  return wrk.format(nil, nil, nil, body)
end
