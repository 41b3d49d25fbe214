#!/usr/bin/env python3
"""A simulated fleet (issue 16's benchmark): hosts x containers pushing through two writers into
one bucket, queries through a third node during the load, every line counted at the end.

    scripts/fleet_bench.py [--bin target/release/bitacora] [--hosts 50] [--containers 20]
                           [--rate 50000] [--seconds 600] [--batch 500]

Starts Garage (scripts/garage.sh; build it first with `scripts/garage.sh build`), writers
`writer-a` and `writer-b` and a query node (`bitacora server --role query`, its block cache
`--query-cache-mib`) on loopback, each with its own data directory. Every batch goes to both writers, as an agent with
`agent.push_urls: [a, b]` sends it, and counts once it is acknowledged by both. During the load
the query node answers a counting query and a needle search every 10 s, cold (first time over a
window) and from cache (the same again). At the end the writers flush, and the query node must
count every line exactly once.

Reports, per writer: lines per CPU-second (its user+system time from /proc, every line
reaching both writers), peak RSS; bytes and requests to the bucket per million lines; query
latencies; the exact count. Speed here is per CPU core of this machine, shared by everything
the benchmark runs (both writers, the query node, Garage and this load generator).
"""

import argparse
import gzip
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        after = f.read().rsplit(")", 1)[1].split()
    return (int(after[11]) + int(after[12])) / TICK


def garage_cpu(pid):
    try:
        return cpu_seconds(pid) if pid else 0.0
    except OSError:
        return 0.0


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Node:
    def __init__(self, bin_, name, env, tmp, role=None):
        self.name = name
        self.port = free_port()
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        args = [bin_, "server", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.dir]
        if role:
            args += ["--role", role]
        e = dict(os.environ, **env, BITACORA_LOG_LEVEL="warn", BITACORA_CLUSTER__NODE_ID=name)
        e["BITACORA_LIMITS__INGESTION_RATE_MB"] = "0"
        self.log = open(os.path.join(tmp, f"{name}.log"), "w")
        self.proc = subprocess.Popen(args, env=e, stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self.get("/ready")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{name} did not start; see {self.log.name}")

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def get(self, path, params=None):
        c = self.conn()
        c.request("GET", path + ("?" + urllib.parse.urlencode(params) if params else ""))
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    def post(self, path):
        c = self.conn()
        c.request("POST", path, body=b"")
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    def metric(self, name):
        _, text = self.get("/metrics")
        total = 0.0
        for line in text.decode().splitlines():
            if line.startswith(name) and line[len(name):len(name) + 1] in (" ", "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def count(self, query, at_ns):
        t = time.time()
        status, body = self.get("/loki/api/v1/query", {"query": query, "time": str(at_ns)})
        took = time.time() - t
        if status != 200:
            raise SystemExit(f"{self.name}: {query}: {status} {body[:300]!r}")
        v = json.loads(body)
        res = v["data"]["result"]
        return (float(res[0]["value"][1]) if res else 0.0), took, v.get("warnings")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/bitacora"))
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--containers", type=int, default=20)
    ap.add_argument("--rate", type=int, default=50000, help="lines per second, all hosts together")
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--batch", type=int, default=500, help="lines per push")
    ap.add_argument("--senders", type=int, default=4, help="pushing threads")
    ap.add_argument("--window", default="10m", help="the range of the queries during the load")
    ap.add_argument("--query-cache-mib", type=int, default=1024, help="the query node's block cache")
    ap.add_argument("--verbose", action="store_true", help="print every query's latency as it comes")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="fleet-")
    garage_dir = os.path.join(tmp, "garage")
    out = subprocess.run([os.path.join(ROOT, "scripts/garage.sh"), "start", garage_dir], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"garage: {out.stderr}")
    s3 = dict(l.split("=", 1) for l in out.stdout.split() if "=" in l)
    bucket_env = {
        "BITACORA_STORE__OBJECT_STORE__BUCKET": s3["S3_BUCKET"],
        "BITACORA_STORE__OBJECT_STORE__ENDPOINT": s3["S3_ENDPOINT"],
        "BITACORA_STORE__OBJECT_STORE__REGION": s3["S3_REGION"],
        "BITACORA_STORE__OBJECT_STORE__ACCESS_KEY_ID": s3["S3_ACCESS_KEY_ID"],
        "BITACORA_STORE__OBJECT_STORE__SECRET_ACCESS_KEY": s3["S3_SECRET_ACCESS_KEY"],
        "BITACORA_STORE__OBJECT_STORE__PREFIX": "fleet",
    }
    nodes = []
    try:
        wa = Node(a.bin, "writer-a", bucket_env, tmp)
        nodes.append(wa)
        wb = Node(a.bin, "writer-b", bucket_env, tmp)
        nodes.append(wb)
        # A query node's block cache is its working set: sized for the windows it is asked.
        q_env = dict(bucket_env, BITACORA_STORE__OBJECT_STORE__BLOCK_CACHE_BYTES=str(a.query_cache_mib << 20))
        q = Node(a.bin, "query-1", q_env, tmp, role="query")
        nodes.append(q)
        print(f"pids: writer-a={wa.proc.pid} writer-b={wb.proc.pid} query-1={q.proc.pid}; logs in {tmp}", file=sys.stderr)
        garage_pid = int(s3.get("GARAGE_PID", "0") or 0)
        run(a, wa, wb, q, garage_pid)
    finally:
        for n in nodes:
            n.proc.send_signal(signal.SIGTERM)
        for n in nodes:
            try:
                n.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                n.proc.kill()
        subprocess.run([os.path.join(ROOT, "scripts/garage.sh"), "stop", garage_dir], capture_output=True)
        subprocess.run(["rm", "-rf", tmp])


PATHS = ["/", "/api/orders", "/api/users/me", "/healthz", "/static/app.js", "/api/search"]


def run(a, wa, wb, q, garage_pid):
    streams = [(h, c) for h in range(a.hosts) for c in range(a.containers)]
    t0_ns = time.time_ns()
    sent = [0] * a.senders
    failures = []
    stop = threading.Event()
    cpu0 = {n.name: cpu_seconds(n.proc.pid) for n in (wa, wb, q)}
    others0 = (garage_cpu(garage_pid), sum(os.times()[:2]))

    def sender(i):
        rng = random.Random(i)
        mine = streams[i::a.senders]
        per_thread = a.rate / a.senders
        conns = [wa.conn(), wb.conn()]
        seq = 0
        started = time.time()
        while not stop.is_set():
            # One push: `batch` lines over a few of this thread's streams.
            picked = rng.sample(mine, min(len(mine), 10))
            by_stream = {}
            now = time.time_ns()
            for k in range(a.batch):
                h, c = picked[k % len(picked)]
                line = (
                    f'10.0.{h}.{c} - - "GET {PATHS[seq % len(PATHS)]} HTTP/1.1" {200 if seq % 50 else 500} '
                    f"{1000 + seq % 9000} rt={seq % 997 / 1000:.3f} sender={i} seq={seq}"
                )
                by_stream.setdefault((h, c), []).append([str(now + k), line])
                seq += 1
            body = json.dumps(
                {
                    "streams": [
                        {"stream": {"job": "fleet", "host": f"host-{h:02}", "app": f"app-{c:02}"}, "values": v}
                        for (h, c), v in by_stream.items()
                    ]
                }
            ).encode()
            body = gzip.compress(body, 1)
            for w in range(2):
                while True:
                    try:
                        conns[w].request(
                            "POST",
                            "/loki/api/v1/push",
                            body=body,
                            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
                        )
                        r = conns[w].getresponse()
                        r.read()
                        if r.status == 204:
                            break
                        failures.append(r.status)
                    except OSError as e:
                        failures.append(str(e))
                        conns[w] = (wa, wb)[w].conn()
                    time.sleep(0.2)
            sent[i] += a.batch
            # Pace to the rate.
            ahead = sent[i] / per_thread - (time.time() - started)
            if ahead > 0:
                time.sleep(ahead)

    threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(a.senders)]
    for t in threads:
        t.start()
    lat = {"count cold": [], "count cached": [], "needle cold": [], "needle cached": []}
    warnings = 0
    warned = set()
    failed = []
    started = time.time()
    while time.time() - started < a.seconds:
        time.sleep(10)
        at = time.time_ns()
        for kind, query in (
            ("count", f'sum(count_over_time({{job="fleet"}}[{a.window}]))'),
            ("needle", f'sum(count_over_time({{job="fleet"}} |= "seq={random.randint(0, 10000)} " [{a.window}]))'),
        ):
            for when in ("cold", "cached"):
                try:
                    _, took, w = q.count(query, at)
                except (OSError, SystemExit) as e:
                    failed.append(f"{kind} {when} at {time.time() - started:.0f} s: {e}")
                    print(f"  {failed[-1]}", file=sys.stderr)
                    continue
                lat[f"{kind} {when}"].append(took)
                warnings += 1 if w else 0
                warned.update(w or [])
                if a.verbose:
                    print(f"  {kind} {when}: {took * 1000:.0f} ms{' (warnings)' if w else ''}", file=sys.stderr)
        rate = sum(sent) / (time.time() - started)
        print(f"{time.time() - started:6.0f} s: {sum(sent):,} lines sent ({rate:,.0f}/s)", file=sys.stderr)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.time() - started
    total = sum(sent)

    # Every line reached both writers; after their last flush the bucket holds everything.
    for w in (wa, wb):
        st, body = w.post("/flush")
        if st != 204:
            raise SystemExit(f"{w.name} /flush: {st} {body!r}")
    end = time.time_ns() + 1_000_000_000
    rng = f"[{(end - t0_ns) // 1_000_000_000 + 60}s]"
    exact = None
    deadline = time.time() + 120
    while time.time() < deadline:
        n, took, w = q.count(f'sum(count_over_time({{job="fleet"}}{rng}))', end)
        if n == total and not w:
            exact = (n, took)
            break
        time.sleep(2)
    # CPU and memory include the last flush, its uploads and the final count.
    cpu = {n.name: cpu_seconds(n.proc.pid) - cpu0[n.name] for n in (wa, wb, q)}
    rss = {n.name: rss_mib(n.proc.pid) for n in (wa, wb, q)}
    garage_s, generator_s = garage_cpu(garage_pid) - others0[0], sum(os.times()[:2]) - others0[1]
    per_writer = {}
    for w in (wa, wb):
        per_writer[w.name] = {
            "uploaded_bytes": w.metric("bitacora_bucket_uploaded_bytes_total"),
            "requests": w.metric("bitacora_bucket_requests_total"),
        }
    q_requests = q.metric("bitacora_bucket_requests_total")
    q_fetched = q.metric("bitacora_bucket_fetched_bytes_total")
    m = total / 1e6

    def pct(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")

    print(f"\nfleet: {a.hosts} hosts x {a.containers} containers, {total:,} lines in {elapsed:.0f} s "
          f"({total / elapsed:,.0f} lines/s), each to both writers; push failures retried: {len(failures)}")
    for name in ("writer-a", "writer-b"):
        pw = per_writer[name]
        print(f"  {name}: {total / cpu[name]:,.0f} lines per CPU-second ({cpu[name]:.1f} CPU-s), "
              f"peak RSS {rss[name]:.1f} MiB; to the bucket per million lines: "
              f"{pw['uploaded_bytes'] / m / 1e6:.2f} MB, {pw['requests'] / m:.1f} requests")
    print(f"  query-1: {cpu['query-1']:.1f} CPU-s, peak RSS {rss['query-1']:.1f} MiB, "
          f"{q_requests:,.0f} bucket requests, {q_fetched / 1e6:.1f} MB fetched")
    print(f"  beside them: Garage {garage_s:.1f} CPU-s, this load generator {generator_s:.1f} CPU-s "
          f"(all together {sum(cpu.values()) + garage_s + generator_s:.0f} CPU-s in {elapsed:.0f} s on "
          f"{os.cpu_count()} cores)")
    for k, v in lat.items():
        print(f"  query {k}: p50 {pct(v, 0.5) * 1000:.0f} ms, p95 {pct(v, 0.95) * 1000:.0f} ms, n={len(v)}")
    print(f"  answers with warnings during the load: {warnings}")
    print(f"  queries that failed (an error, or no answer within 120 s): {len(failed)}")
    for f in failed:
        print(f"    {f}")
    for w in sorted(warned):
        print(f"    {w}")
    if exact:
        print(f"  every line counted exactly once through the query node: {exact[0]:,.0f} ({exact[1] * 1000:.0f} ms)")
    else:
        raise SystemExit(f"  the query node did not count {total:,} lines within 2 minutes")
    if failed:
        raise SystemExit(f"  {len(failed)} queries failed during the load")


if __name__ == "__main__":
    main()
