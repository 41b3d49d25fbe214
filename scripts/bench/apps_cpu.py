#!/usr/bin/env python3
"""Measures what container events and the apps page cost `bitacora run` (a release build), in
CPU seconds per minute of the server process, against a real Docker engine:

  idle       10 running Dokku-labelled containers, nobody looking
  events     the same while one container is restarted as fast as Docker allows (each restart
             is kill/die/stop/start/restart events recorded as lines)
  page open  the same, idle, while the apps page polls GET /api/apps every 15 s and a container
             view polls GET /api/apps/containers/{id} every 2 s (stats streams of every container)

Run: python3 scripts/bench/apps_cpu.py [path/to/release/bitacora]  (needs docker and the image
bitacora-test:busybox from scripts/docker-setup.sh).
"""
import json, os, subprocess, sys, tempfile, time, urllib.request, urllib.parse

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/bitacora"
TAG = f"cpu13-{os.getpid()}"
IMAGE = "bitacora-test:busybox"
SECS = int(os.environ.get("MEASURE_SECONDS", "60"))

def sh(*a):
    return subprocess.run(a, check=True, capture_output=True, text=True).stdout.strip()

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read() or b"null")

port = 39000 + os.getpid() % 1000
data = tempfile.mkdtemp()
env = dict(os.environ, BITACORA_LOG_LEVEL="warn", BITACORA_AGENT__INCLUDE_CONTAINERS=f"{TAG}-.*")
srv = subprocess.Popen([BIN, "run", "--listen", f"127.0.0.1:{port}", "--data-dir", data], env=env)
base = f"http://127.0.0.1:{port}"
names = []
try:
    for _ in range(100):
        try:
            get(base + "/ready"); break
        except Exception:
            time.sleep(0.1)
    for i in range(10):
        n = f"{TAG}-app{i}.web.1"
        sh("docker", "run", "-d", "--name", n, "--label", f"com.dokku.app-name={TAG}-app{i}",
           "--label", "com.dokku.process-type=web", "--label", "com.dokku.dyno=web.1",
           "--label", "com.dokku.container-type=deploy", IMAGE, "sh", "-c", "while :; do echo tick; sleep 5; done")
        names.append(n)
    time.sleep(10)

    def measure(label, work):
        c0, t0 = cpu(srv.pid), time.time()
        extra = work()
        c1, t1 = cpu(srv.pid), time.time()
        per_min = (c1 - c0) / (t1 - t0) * 60
        print(f"| {label} | {per_min:.2f} CPU-s per minute ({(c1 - c0) / (t1 - t0) * 100:.2f} % of a core) | {extra} |", flush=True)
        return per_min

    print("| state | bitacora run's CPU | detail |")
    print("|---|---|---|")
    idle = measure("idle, 10 containers", lambda: time.sleep(SECS) or "")

    def restarts():
        end, n = time.time() + SECS, 0
        while time.time() < end:
            sh("docker", "restart", "-t", "0", names[0]); n += 1
        time.sleep(2)
        q = urllib.parse.urlencode({"query": f'sum(count_over_time({{app="{TAG}-app0", source="docker"}}[10m]))', "time": str(time.time_ns())})
        v = get(f"{base}/loki/api/v1/query?{q}")
        events = v["data"]["result"][0]["value"][1] if v["data"]["result"] else "0"
        return f"{n} restarts, {events} event lines recorded"
    ev = measure("events: one container restarted in a loop", restarts)

    ids = [sh("docker", "inspect", "-f", "{{.Id}}", n) for n in names]
    def page():
        end, apps, one = time.time() + SECS, 0, 0
        next_apps = 0
        while time.time() < end:
            if time.time() >= next_apps:
                get(base + "/api/apps"); apps += 1; next_apps = time.time() + 15
            get(f"{base}/api/apps/containers/{ids[1][:12]}"); one += 1
            time.sleep(2)
        return f"{apps} GET /api/apps, {one} GET /api/apps/containers/{{id}}"
    pg = measure("apps page and a container view open", page)
    time.sleep(35)
    after = measure("idle again, 35 s after the page closed", lambda: time.sleep(SECS) or "")
    print()
    print(f"events: +{ev - idle:.2f} CPU-s per minute; page open: +{pg - idle:.2f} CPU-s per minute; after closing: {after - idle:+.2f}")
finally:
    for n in names:
        subprocess.run(["docker", "rm", "-f", n], capture_output=True)
    srv.terminate(); srv.wait()
