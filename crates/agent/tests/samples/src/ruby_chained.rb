def fetch
  raise IOError, "socket closed"
rescue IOError
  raise RuntimeError, "fetch failed"
end
fetch
