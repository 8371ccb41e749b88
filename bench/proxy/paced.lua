-- paced.lua: a wrk script for run.sh's equal-rate runs: every connection pauses PACE_MS
-- (default 5) milliseconds before each request, so every peer is offered about the same
-- request rate (connections / (pause + latency)) and CPU per request compares like with like.
local pause = tonumber(os.getenv("PACE_MS") or "5")
function delay()
  return pause
end
