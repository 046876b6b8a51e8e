"""HTTP task-status commands against `migops serve`, and the PostgreSQL
baseline measured in the same run on the same disk.

migops: the real binary on a free port with a fresh data directory under
build/; one space, journeys from a built-in template, and
migops_http_load changing task statuses over 64 keep-alive connections:
a warm-up, a closed loop at the maximum rate, then an open loop (Poisson
arrivals) at half of that rate, latency measured from each request's
scheduled arrival. Then, on the same server over 64 new connections, a
closed loop of reads of the same tasks (GET /v1/tasks/{task}): the rate at which the
server answers the cheapest authenticated request, a ceiling for any
command rate on this machine. Last, a closed loop of GET /healthz (no
token, no store): the server's HTTP path alone, the rate no route can
exceed on this machine. The server's CPU time (every thread, from /proc)
is divided by the requests of each run: per command (the alert reviews
the commands cause included) against per read.

PostgreSQL: a throwaway cluster initialised in a temporary directory under
build/ (its unix socket in that directory too), fsync=on,
synchronous_commit=on; one INSERT of one event-shaped row per transaction;
pgbench with 64 clients and 2 threads at its maximum rate, then at half of
it with -R, whose per-transaction log gives each transaction's latency from
its scheduled start (pgbench's own definition under -R), so both sides are
measured the same way.

Used by ops/bench; http_rows() returns the rows.
"""
import contextlib
import glob
import http.client
import json
import math
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CONNECTIONS = 64
PGBENCH_THREADS = 2
WARMUP_SECONDS = 3
SECONDS = 10
READY_SECONDS = 30
STOP_SECONDS = 30
# Rounds of PostgreSQL then migops; the rows are their medians (a single
# round's figures vary by a quarter or more on a two-core machine).
ROUNDS = 3
PG_BIN = "/usr/lib/postgresql/15/bin"
PG_USER = "bench"
# Journeys created from the template, so that the 64 connections change
# many different tasks (each connection owns its own tasks).
JOURNEYS = 32
TEMPLATE = "migops-general-migration"
USER = "bench"

ROWS = ("http.status.64", "http.status.p50.half", "http.status.p99.half", "http.read.64",
        "http.health.64", "http.status.cpu")

# One event as a PostgreSQL row: the envelope's place, id, type and time as
# columns, who and why plus the status change as jsonb. A row is 392 bytes
# (pg_column_size), about our stored task.status_changed event (374 bytes
# of cereal, two SHA-256 hashes included); PostgreSQL keeps no hash chain.
TABLE = """
CREATE SEQUENCE event_position;
CREATE TABLE events (
    partition integer NOT NULL,
    position bigint NOT NULL,
    id uuid NOT NULL,
    type text NOT NULL,
    time timestamptz NOT NULL,
    data jsonb NOT NULL,
    PRIMARY KEY (partition, position)
);
"""
INSERT = """\\set partition random(0, 7)
INSERT INTO events (partition, position, id, type, time, data) VALUES (:partition, \
nextval('event_position'), gen_random_uuid(), 'io.migops.task.status_changed.v1', now(), \
:payload::jsonb);
"""
PAYLOAD = json.dumps({
    "actor": USER,
    "actor_role": "space_admin",
    "correlation_id": "8c3e1f0a9b7d4e2c6a5f1b0d9e8c7a6b",
    "causation_id": "1b2c3d4e5f60718293a4b5c6d7e8f901",
    "task": "5d1f0c9e8a7b6c4d2e3f4a5b6c7d8e9f.n17",
    "from": "in_progress",
    "to": "blocked",
    "reason": "waiting for the load test",
}, separators=(",", ":"))


class bench_error(Exception):
    pass


def wanted(name, selectors):
    """The same prefix rule as migops_bench: no selector, or one that starts
    the row's name or that the row's name starts."""
    return not selectors or any(name.startswith(s) or s.startswith(name) for s in selectors)


def percentile(sorted_values, p):
    """Nearest rank, as migops_http_load computes it."""
    if not sorted_values:
        raise bench_error("no latencies to take a percentile of")
    rank = max(1, min(len(sorted_values), math.ceil(p * len(sorted_values))))
    return sorted_values[rank - 1]


# ---------------------------------------------------------------- PostgreSQL

def _as_cluster_owner():
    """PostgreSQL refuses to run as root: as root, its commands run as the
    postgres user that the Debian package creates."""
    if os.geteuid() != 0:
        return None, None
    pw = pwd.getpwnam("postgres")

    def drop():
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return drop, pw


def _run(cmd, drop, **kwargs):
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    r = subprocess.run(cmd, preexec_fn=drop, text=True, **kwargs)
    if r.returncode != 0:
        raise bench_error(f"{os.path.basename(cmd[0])} failed ({r.returncode}): "
                          f"{r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


def _pgbench_tps(out):
    m = re.search(r"^tps = ([0-9.]+) \(without initial connection time\)", out, re.M)
    failed = re.search(r"^number of failed transactions: (\d+)", out, re.M)
    if not m:
        raise bench_error("pgbench printed no tps:\n" + out)
    if failed and int(failed.group(1)) != 0:
        raise bench_error("pgbench: failed transactions:\n" + out)
    return float(m.group(1))


def postgres_baseline(build_dir):
    """One-row INSERTs: tps at the maximum rate; p50_ms and p99_ms of the
    transactions run at half_rate, from their scheduled starts."""
    drop, pw = _as_cluster_owner()
    tmp = os.path.abspath(tempfile.mkdtemp(prefix="pg-", dir=build_dir))
    data = os.path.join(tmp, "data")
    started = False
    try:
        if pw:
            os.chown(tmp, pw.pw_uid, pw.pw_gid)
        _run([os.path.join(PG_BIN, "initdb"), "-D", data, "-U", PG_USER, "-A", "trust",
              "-E", "UTF8", "--locale=C", "--no-instructions"], drop)
        settings = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{tmp}'",
            "fsync": "on",
            "synchronous_commit": "on",
            "max_connections": str(CONNECTIONS + 16),
        }
        opts = " ".join(f"-c {k}={v}" for k, v in settings.items())
        server_log = os.path.join(tmp, "server.log")
        started = True
        try:
            _run([os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-l", server_log, "-o", opts, "-w",
                  "-s", "start"], drop)
        except bench_error as e:
            with open(server_log) as f:
                raise bench_error(f"{e}\n{f.read()}") from None
        connect = ["-h", tmp, "-U", PG_USER]
        _run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", *connect,
              "-d", "postgres", "-c", TABLE], drop)
        script = os.path.join(tmp, "insert.sql")
        with open(script, "w") as f:
            f.write(INSERT)
        os.chmod(script, 0o644)
        pgbench = [os.path.join(PG_BIN, "pgbench"), "-n", *connect, "-c", str(CONNECTIONS),
                   "-j", str(PGBENCH_THREADS), "-M", "prepared", "-T", str(SECONDS),
                   "-D", "payload=" + PAYLOAD, "-f", script, "postgres"]
        tps = _pgbench_tps(_run(pgbench, drop))
        half = tps / 2
        prefix = os.path.join(tmp, "latency")
        half_tps = _pgbench_tps(
            _run(pgbench + ["-R", f"{half:.1f}", "-l", "--log-prefix", prefix], drop))
        row_bytes = float(_run([os.path.join(PG_BIN, "psql"), "-X", "-A", "-t", *connect, "-d",
                                "postgres", "-c", "SELECT avg(pg_column_size(e.*)) FROM events e"],
                               drop))
        # One line per transaction: client, transaction, latency in us from
        # the scheduled start, script, epoch s, epoch us, schedule lag in us.
        latencies = []
        for path in glob.glob(prefix + ".*"):
            with open(path) as f:
                latencies += [int(line.split()[2]) for line in f if line.strip()]
        latencies.sort()
        return {"tps": tps, "half_rate": half, "half_tps": half_tps, "row_bytes": row_bytes,
                "transactions": len(latencies),
                "p50_ms": percentile(latencies, 0.50) / 1000,
                "p99_ms": percentile(latencies, 0.99) / 1000}
    finally:
        if started:
            subprocess.run([os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-m", "fast", "-w", "-s",
                            "stop"], preexec_fn=drop, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


# -------------------------------------------------------------------- migops

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _client:
    def __init__(self, port, token=None):
        self.port, self.token = port, token

    def call(self, method, path, body=None, expect=200):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Content-Type": "application/json"}
            if self.token:
                headers["Authorization"] = "Bearer " + self.token
            c.request(method, path, json.dumps(body) if body is not None else None, headers)
            r = c.getresponse()
            text = r.read().decode()
        finally:
            c.close()
        if r.status != expect:
            raise bench_error(f"{method} {path}: {r.status} (expected {expect}): {text}")
        return json.loads(text) if text else None


def _cpu_seconds(pid):
    """The CPU time (user and system, every thread) a process has used."""
    with open(f"/proc/{pid}/stat") as f:
        # Fields after the command name, which ends with the last ")":
        # utime and stime are the 12th and 13th.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_ready(port, server, log_path):
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        with contextlib.suppress(OSError, http.client.HTTPException):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return
        time.sleep(0.05)
    with open(log_path) as f:
        raise bench_error("migops serve did not become ready:\n" + f.read())


def _task_ids(journey):
    return [t["id"] for p in journey["phases"] for m in p["modules"] for t in m["tasks"]]


def task_status_workload(api, tmp):
    """One space, JOURNEYS journeys from TEMPLATE: the generator's arguments
    to change the status of all their tasks, and how many there are."""
    space = api.call("POST", "/v1/spaces", {"name": "HTTP benchmark"}, expect=201)["id"]
    templates = api.call("GET", "/v1/templates")["templates"]
    if not any(t["id"] == TEMPLATE for t in templates):
        raise bench_error(f"no built-in template {TEMPLATE} in GET /v1/templates")
    tasks = []
    for j in range(JOURNEYS):
        journey = api.call("POST", f"/v1/spaces/{space}/journeys",
                           {"name": f"Journey {j + 1}", "template_id": TEMPLATE}, expect=201)
        tasks += _task_ids(journey)
    tasks_file = os.path.join(tmp, "tasks")
    with open(tasks_file, "w") as f:
        f.write("".join(t + "\n" for t in tasks))
    return ["--tasks", tasks_file], len(tasks)


def migops_http(build_dir, workload=task_status_workload):
    """The load generator's phases ({"warmup", "max", "half"}) by name, the
    reads' closed loop ("read"), the health checks' ("health"), the tasks
    changed ("tasks") and the server's CPU µs per command and per read
    ("cpu_us", "read_cpu_us")."""
    binary = os.path.join(build_dir, "bin", "migops")
    with tempfile.TemporaryDirectory(prefix="http-", dir=build_dir) as tmp:
        data = os.path.join(tmp, "data")
        port = _free_port()
        log_path = os.path.join(tmp, "serve.log")
        with open(log_path, "w") as log:
            server = subprocess.Popen([binary, "serve", "--data-dir", data,
                                       "--listen", f"127.0.0.1:{port}"],
                                      stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(port, server, log_path)
            token = subprocess.run([binary, "token", "--user", USER, "--data-dir", data],
                                   check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
            work_args, tasks = workload(_client(port, token), tmp)
            def load(*phase_args, work=("--token", token, *work_args)):
                """The phases by name, and the server's CPU time per request
                (µs) over all the phases of this run."""
                cpu_before = _cpu_seconds(server.pid)
                done = subprocess.run(
                    [os.path.join(build_dir, "bin", "migops_http_load"), "--port", str(port),
                     *work, "--connections", str(CONNECTIONS),
                     "--warmup", str(WARMUP_SECONDS), "--duration", str(SECONDS), *phase_args],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                if done.returncode != 0:
                    raise bench_error(f"migops_http_load failed ({done.returncode}): "
                                      f"{done.stderr.strip()}\n{done.stdout.strip()}")
                phases = {p["phase"]: p for p in map(json.loads, done.stdout.splitlines())}
                requests = sum(p["requests"] for p in phases.values())
                return phases, (_cpu_seconds(server.pid) - cpu_before) * 1e6 / max(requests, 1)

            phases, cpu_us = load("--then-half")
            reads, read_cpu_us = load("--reads")
            health, _ = load(work=("--health",))
            phases["read"] = reads["max"]
            phases["health"] = health["max"]
            phases["cpu_us"] = cpu_us
            phases["read_cpu_us"] = read_cpu_us
            phases["tasks"] = tasks
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                code = server.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                raise bench_error(f"migops serve did not stop within {STOP_SECONDS} s")
        if code != 0:
            with open(log_path) as f:
                raise bench_error(f"migops serve exited with {code}:\n" + f.read())
        return phases


def http_rows(root, selectors, rounds=ROUNDS):
    """The HTTP rows that selectors ask for (none: all): the medians of
    `rounds` rounds, each PostgreSQL then migops, each round's figures on
    stderr."""
    if not any(wanted(r, selectors) for r in ROWS):
        return []
    build_dir = os.path.join(root, "build")
    figures = {"rate": [], "p50": [], "p99": [], "reads": [], "health": [], "cpu": [],
               "read_cpu": [], "pg_tps": [], "pg_p50": [], "pg_p99": []}
    for n in range(1, rounds + 1):
        pg = postgres_baseline(build_dir)
        ours = migops_http(build_dir)
        mx, half = ours["max"], ours["half"]
        print(f"http round {n}/{rounds}: migops over {ours['tasks']} tasks: {mx['rate']:,.0f} "
              f"commands/s in a closed loop, then {half['requests']} commands offered at "
              f"{half['offered_rate']:,.0f}/s: p50 {half['p50_ms']:.2f} ms, p99 "
              f"{half['p99_ms']:.2f} ms; PostgreSQL: {pg['tps']:,.0f} tps, then "
              f"{pg['transactions']} transactions at {pg['half_tps']:,.0f} tps (-R "
              f"{pg['half_rate']:,.0f}): p50 {pg['p50_ms']:.2f} ms, p99 {pg['p99_ms']:.2f} ms; "
              f"rows of {pg['row_bytes']:.0f} bytes; migops task reads: "
              f"{ours['read']['rate']:,.0f}/s in a closed loop; GET /healthz: "
              f"{ours['health']['rate']:,.0f}/s in a closed loop; server CPU "
              f"{ours['cpu_us']:.0f} us per command, {ours['read_cpu_us']:.0f} us per read",
              file=sys.stderr)
        for key, value in (("rate", mx["rate"]), ("p50", half["p50_ms"]),
                           ("p99", half["p99_ms"]), ("reads", ours["read"]["rate"]),
                           ("health", ours["health"]["rate"]),
                           ("cpu", ours["cpu_us"]), ("read_cpu", ours["read_cpu_us"]),
                           ("pg_tps", pg["tps"]),
                           ("pg_p50", pg["p50_ms"]), ("pg_p99", pg["p99_ms"])):
            figures[key].append(value)
    m = {key: statistics.median(values) for key, values in figures.items()}
    rows = [
        {"row": "http.status.64", "value": m["rate"], "unit": "commands/s",
         "baseline": m["pg_tps"], "ratio": m["rate"] / m["pg_tps"], "goal": ">= 5x",
         "rounds": {"values": figures["rate"], "baselines": figures["pg_tps"]}},
        {"row": "http.status.p50.half", "value": m["p50"], "unit": "ms",
         "baseline": m["pg_p50"], "ratio": m["pg_p50"] / m["p50"], "goal": "report",
         "rounds": {"values": figures["p50"], "baselines": figures["pg_p50"]}},
        {"row": "http.status.p99.half", "value": m["p99"], "unit": "ms",
         "baseline": m["pg_p99"], "ratio": m["pg_p99"] / m["p99"], "goal": "p99 <= 5 ms",
         "rounds": {"values": figures["p99"], "baselines": figures["pg_p99"]}},
        {"row": "http.read.64", "value": m["reads"], "unit": "reads/s",
         "baseline": m["pg_tps"], "ratio": m["reads"] / m["pg_tps"],
         "goal": "report: a ceiling for http.status.64",
         "rounds": {"values": figures["reads"], "baselines": figures["pg_tps"]}},
        {"row": "http.health.64", "value": m["health"], "unit": "answers/s",
         "baseline": m["pg_tps"], "ratio": m["health"] / m["pg_tps"],
         "goal": "report: the HTTP path alone, a ceiling for every HTTP row",
         "rounds": {"values": figures["health"], "baselines": figures["pg_tps"]}},
        {"row": "http.status.cpu", "value": m["cpu"], "unit": "us/command",
         "baseline": m["read_cpu"], "ratio": m["read_cpu"] / m["cpu"], "goal": "report",
         "rounds": {"values": figures["cpu"], "baselines": figures["read_cpu"]}},
    ]
    return [r for r in rows if wanted(r["row"], selectors)]
