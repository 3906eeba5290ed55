-- Distinct-slot bookings by many signed-in patients.
-- BENCH_BOOKING_FILE has one booking a line: "<Cookie header>\t<form body>\t<path>", each line a
-- different slot, prepared by bench/run.py so that no patient books two slots at one time.
-- Each wrk thread takes every BENCH_WRK_THREADS-th line and sends each once; a thread that runs
-- out stops, and says so on stderr (the pool was too small for the run's length).

dofile("report.lua")

local counter = 0

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
end

local bookings = {}
local position = 0

function init(args)
  local threads = tonumber(os.getenv("BENCH_WRK_THREADS"))
  local n = 0
  for line in io.lines(os.getenv("BENCH_BOOKING_FILE")) do
    if n % threads == thread_index then
      local cookie, body, path = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
      bookings[#bookings + 1] = wrk.format("POST", path, {
        ["Cookie"] = cookie,
        ["User-Agent"] = os.getenv("BENCH_USER_AGENT"),
        ["Content-Type"] = "application/x-www-form-urlencoded",
      }, body)
    end
    n = n + 1
  end
end

function request()
  position = position + 1
  if position > #bookings then
    if position == #bookings + 1 then
      io.stderr:write("BENCH_EXHAUSTED\n")
      wrk.thread:stop()
    end
    return wrk.format("GET", "/healthz")
  end
  return bookings[position]
end
