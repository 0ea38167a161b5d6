"""Load: /api/nearest under the production server, beside a bare floor, and a mixed case.

Starts our app as `stations serve` runs it (granian, app/cli/granian_conf.py) and as
`stations serve --server gunicorn` does, and a minimal WSGI app that answers a cKDTree query
over the same stations with 5 GeoJSON features (the floor) under gunicorn (gunicorn.conf.py)
and under granian; drives each with `wrk` (Debian package) for a bounded time; a Lua script
draws random points in Shanghai, with and without type, amenity and open_at=now (20,000 a wrk
thread, drawn before the clock starts, so wrk's own share of the two cores stays small).
Prints requests/s, p50, p99 and errors, ours as a share of the faster floor and as a multiple
of gunicorn's, and each server's memory. The mixed case (under granian) runs 80 connections
on /api/gaps and /api/coverage/hourly (varied parameters) while 20 call /api/nearest: once
with heavy clients that honour a 503's Retry-After (as the pages do), once with clients that
ask again at once; it counts the heavy answers by status.

Run: python bench/load.py [--seconds 10]   (needs /usr/bin/wrk; STATIONS_WORKERS, default 2,
and STATIONS_THREADS apply to both servers)
Goals (issue 25): >= half the faster floor and >= 1.3x the gunicorn floor, p99 < 50 ms at
100 connections, 0 errors; mixed: nearest p99 < 100 ms, no errors but documented 503s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

NEAREST_LUA = textwrap.dedent("""
    -- the requests are drawn once, before the clock starts: per request wrk only picks the
    -- next one, so the load generator takes as little as it can of the cores it shares
    local threads, reqs, n = 0, {}, 0
    setup = function(thread)
      threads = threads + 1
      thread:set("id", threads)
    end
    init = function(args)
      math.randomseed(42 + id)
      local extras = {"", "&type=relay", "&amenity=water", "&open_at=now",
                      "&type=health&open_at=now"}
      for i = 1, 20000 do
        local lat = 30.90 + math.random() * 0.55
        local lng = 121.15 + math.random() * 0.65
        local path = string.format("/api/nearest?lat=%.5f&lng=%.5f", lat, lng)
        reqs[i] = wrk.format("GET", path .. extras[math.random(#extras)])
      end
    end
    request = function()
      n = n % #reqs + 1
      return reqs[n]
    end
""")
HEAVY_LUA = textwrap.dedent("""
    -- every answer is counted by status, so the report can tell 503s (busy) from 429s
    local threads = {}
    setup = function(thread) table.insert(threads, thread) end
    init = function(args) ok, busy, limited, other = 0, 0, 0, 0 end
    response = function(status, headers, body)
      if status == 200 then ok = ok + 1 elseif status == 503 then busy = busy + 1
      elseif status == 429 then limited = limited + 1 else other = other + 1 end
    end
    statuses = function()
      local t = {ok = 0, busy = 0, limited = 0, other = 0}
      for _, thread in ipairs(threads) do
        for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
      end
      return string.format('"ok": %d, "busy_503": %d, "limited_429": %d, "other": %d, ',
                           t.ok, t.busy, t.limited, t.other)
    end
    math.randomseed(7)
    local paths = {"/api/gaps?type=relay", "/api/gaps?type=health",
                   "/api/coverage/hourly?type=relay&weekday=%d",
                   "/api/gaps?type=relay&threshold_m=%d", "/api/coverage?type=fitness",
                   "/api/coverage/hourly?type=health&weekday=%d"}
    request = function()
      local p = paths[math.random(#paths)]
      if string.find(p, "threshold") then p = string.format(p, 500 + 50 * math.random(0, 20))
      elseif string.find(p, "weekday") then p = string.format(p, math.random(0, 6)) end
      return wrk.format("GET", p)
    end
""")
POLITE_LUA = textwrap.dedent("""
    -- clients that honour Retry-After, as the pages do (static/common.js): each 503 makes one
    -- of this thread's connections wait as long as the answer asks before its next request
    local owed, counted = {}, response
    response = function(status, headers, body)
      counted(status, headers, body)
      if status == 503 then table.insert(owed, 1000 * (tonumber(headers["Retry-After"]) or 2)) end
    end
    delay = function() return table.remove(owed, 1) or 0 end
""")
REPORT_LUA = textwrap.dedent("""
    done = function(summary, latency, requests)
      local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                     + summary.errors.timeout
      io.write(string.format(
        'JSON {%s"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, '
        .. '"errors": %d, "non2xx": %d}\\n', statuses and statuses() or "",
        summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
        latency:percentile(99) / 1000, errors, summary.errors.status))
    end
""")

FLOOR_APP = textwrap.dedent("""
    import json, sys
    import numpy as np
    from scipy.spatial import cKDTree
    sys.path.insert(0, %(root)r)
    from geo.atlas import Atlas
    from geo.index.nearest import ecef
    from urllib.parse import parse_qs

    _st = Atlas.load().stations
    _lon, _lat = _st["lon"].to_numpy(), _st["lat"].to_numpy()
    _ids, _names = _st["id"].tolist(), _st["name"].tolist()
    _tree = cKDTree(ecef(_lon, _lat))

    def app(environ, start_response):
        q = parse_qs(environ.get("QUERY_STRING", ""))
        lat, lng = float(q["lat"][0]), float(q["lng"][0])
        d, i = _tree.query(ecef(np.array([lng]), np.array([lat]))[0], k=5)
        feats = [{"type": "Feature", "id": _ids[j], "properties": {"name": _names[j],
                  "distance_m": round(float(dd), 1)}, "geometry": {"type": "Point",
                  "coordinates": [float(_lon[j]), float(_lat[j])]}} for dd, j in zip(d, i)]
        body = json.dumps({"type": "FeatureCollection", "features": feats},
                          ensure_ascii=False).encode()
        start_response("200 OK", [("Content-Type", "application/geo+json"),
                                  ("Content-Length", str(len(body)))])
        return [body]
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _running(command: list[str], env: dict, cwd: Path, port: int, name: str,
             out: Path | None = None) -> Iterator[tuple[subprocess.Popen, int]]:
    """A server process: (process, port) once it answers /api/nearest, stopped on leaving;
    its output to `out` if given."""
    sink = out.open("a") if out else subprocess.DEVNULL
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=sink,
                            start_new_session=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/nearest?lat=31.23&"
                                       "lng=121.47", timeout=2).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.2)
        yield proc, port
    finally:  # the whole group: killing granian's main alone would leave its workers
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if out:
            sink.close()


@contextmanager
def serving(app: str, extra_env: dict | None = None, cwd: Path = ROOT
            ) -> Iterator[tuple[subprocess.Popen, int]]:
    """gunicorn with the repo's config (2 workers) on a free port, quiet access log: (process,
    port) once it answers, stopped on leaving."""
    port = free_port()
    env = {**os.environ, "STATIONS_BIND": f"127.0.0.1:{port}",
           "STATIONS_WORKERS": os.environ.get("STATIONS_WORKERS", "2"),
           "STATIONS_TILES": "none", "STATIONS_ACCESS_LOG": "/dev/null",
           "STATIONS_LOG_LEVEL": "warning", **(extra_env or {})}
    with _running([str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), app], env, cwd,
                  port, app) as running:
        yield running


@contextmanager
def serving_ours(extra_env: dict | None = None, server: str = "granian",
                 log: Path | None = None) -> Iterator[tuple[subprocess.Popen, int]]:
    """Our app as `stations serve --server SERVER` runs it (2 workers), on a free port, with
    the access log (and the server's other output) in `log` if given."""
    port = free_port()
    env = {**os.environ, "STATIONS_WORKERS": os.environ.get("STATIONS_WORKERS", "2"),
           "STATIONS_TILES": "none", "STATIONS_LOG_LEVEL": "warning",
           "STATIONS_ACCESS_LOG": str(log) if log and server == "gunicorn" else
           "-" if log else "/dev/null", **(extra_env or {})}
    with _running([str(BIN / "stations"), "serve", "--server", server, "--port", str(port)],
                  env, ROOT, port, f"stations serve --server {server}",
                  log if server == "granian" else None) as running:
        _all_workers_loaded(running[0].pid, int(env["STATIONS_WORKERS"]))
        yield running


def _tree(pid: int) -> list[int]:
    """A process and its descendants, parents first (workers, then their heavy children)."""
    pids = [pid]
    for p in pids:  # grows as children are found
        kids = Path(f"/proc/{p}/task/{p}/children")
        pids += [int(k) for k in kids.read_text().split()] if kids.exists() else []
    return pids


def _all_workers_loaded(pid: int, workers: int, timeout_s: float = 60) -> None:
    """Wait until every worker has its niced heavy-route child, started once it has loaded
    the app: granian answers as soon as one worker has, and a bench run begun then measured
    one worker loading beside the other serving (a third of the rate)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        niced = sum(os.getpriority(os.PRIO_PROCESS, p) > 0 for p in _tree(pid)[1:]
                    if Path(f"/proc/{p}").exists())
        if niced >= workers:
            return
        time.sleep(0.2)
    raise RuntimeError(f"not every worker loaded in {timeout_s:.0f} s")


@contextmanager
def serving_granian(app: str, factory: bool = False, extra_env: dict | None = None,
                    cwd: Path = ROOT) -> Iterator[tuple[subprocess.Popen, int]]:
    """The same app under granian (a Rust HTTP server; WSGI, 2 workers x 8 blocking threads,
    the settings the issue measured), on a free port: (process, port) once it answers."""
    port = free_port()
    env = {**os.environ, "STATIONS_TILES": "none", **(extra_env or {})}
    workers = os.environ.get("STATIONS_WORKERS", "2")
    with _running([str(BIN / "granian"), "--interface", "wsgi", "--workers", workers,
                   "--blocking-threads", "8", "--port", str(port), "--no-access-log",
                   "--workers-kill-timeout", "5s", "--log-level", "warning",
                   *(["--factory"] if factory else []), app], env, cwd, port,
                  f"{app} under granian") as running:
        yield running


def wrk(port: int, lua: str, seconds: int, conns: int, threads: int = 2,
        timeout_s: int = 10) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua + REPORT_LUA)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout",
                          f"{timeout_s}s", "-s", fh.name, f"http://127.0.0.1:{port}"],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(fh.name)
    res = json.loads(next(line[5:] for line in out.splitlines() if line.startswith("JSON ")))
    res["rps"] = res["requests"] / res["seconds"]
    return res


def startup() -> tuple[float, float]:
    """create_app() on the embedded dataset in a fresh interpreter: (imports + app, app only)."""
    code = ("import time; t0 = time.perf_counter(); from app import create_app; "
            "t1 = time.perf_counter(); create_app({'STATIONS_TILES': 'none'}); "
            "t2 = time.perf_counter(); print(t2 - t0, t2 - t1)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def _rollup(pid: int) -> dict[str, float]:
    """A process's memory from /proc/PID/smaps_rollup, in MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        out[key] = int(value.split()[0]) / 1024
    return out


def memory(master: int) -> str:
    """What the server's processes hold after the load: shared pages (preload_app, gc.freeze
    in gunicorn.conf.py) against what each process has copied or made for itself."""
    pids = _tree(master)
    mem = [_rollup(pid) for pid in pids]
    own = ", ".join(f"{m['Private_Dirty'] + m['Private_Clean']:.0f}" for m in mem[1:])
    return (f"memory: {len(pids)} processes (master, workers, children), PSS "
            f"{sum(m['Pss'] for m in mem):.0f} MiB in all, the master's RSS "
            f"{mem[0]['Rss']:.0f} MiB; each other process's own pages: {own} MiB")


def row(name: str, r: dict) -> str:
    return (f"{name:46s} {r['rps']:9.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} "
            f"{r['errors']:6d} {r['non2xx']:6d}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    with_imports, app_only = min(startup() for _ in range(3))
    print(f"start-up: create_app() {app_only:.2f} s ({with_imports:.2f} s with imports; "
          "goal < 1.5 s)\n")
    print(f"{'case':46s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>6s} "
          f"{'non2xx':>6s}")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "floor.py").write_text(FLOOR_APP % {"root": str(ROOT)})
        with serving("floor:app", cwd=Path(tmp)) as (_, port):
            floor = wrk(port, NEAREST_LUA, args.seconds, 100)
        with serving_granian("floor:app", cwd=Path(tmp)) as (_, port):
            floor_granian = wrk(port, NEAREST_LUA, args.seconds, 100)
    # the 80 heavy clients of the mixed case share one loopback address: the per-address
    # limit (600 a minute) is lifted, so that what is measured is the busy gate (503s)
    unlimited = {"STATIONS_RATE_LIMIT": "1000000 per minute"}
    log = Path(tempfile.mkdtemp()) / "access.log"  # the heavy answers' times
    with serving_ours(unlimited, "gunicorn") as (gproc, port):
        ours_gunicorn = wrk(port, NEAREST_LUA, args.seconds, 100)
        gunicorn_memory = memory(gproc.pid)
    t0 = time.perf_counter()
    with serving_ours(unlimited, "granian") as (proc, port):  # no access log, as for gunicorn
        started = time.perf_counter() - t0
        ours = wrk(port, NEAREST_LUA, args.seconds, 100)
        granian_memory = memory(proc.pid)
    with serving_ours(unlimited, "granian", log) as (proc, port):
        logged = wrk(port, NEAREST_LUA, args.seconds, 100)
        print(row("floor: bare cKDTree WSGI app under gunicorn", floor))
        print(row("floor: the same app under granian", floor_granian))
        print(row("ours: stations serve (granian), 100 conns", ours))
        print(row("ours: stations serve --server gunicorn", ours_gunicorn))
        print(row("ours under granian with its access log", logged))
        best = max(floor["rps"], floor_granian["rps"])
        print(f"\nours = {ours['rps'] / best:.0%} of the faster floor and "
              f"{ours['rps'] / floor['rps']:.1f}x the gunicorn floor (goals: >= 50 %, >= 1.3x; "
              f"p99 < 50 ms); under gunicorn {ours_gunicorn['rps'] / floor['rps']:.0%} of its "
              f"floor; server up and answering in {started:.1f} s (the CLI loads the data "
              "once to check it, then each worker loads it)")
        print("granian (no preload: each worker loads the app) " + granian_memory)
        print("gunicorn (preloaded, shared copy-on-write) " + gunicorn_memory)
        for clients in ("polite", "hostile"):
            mixed(port, args.seconds, clients, log)
    log.unlink()


def heavy_times(lines: list[str]) -> str:
    """The heavy routes' 200s in access-log lines: how long their clients waited."""
    ms = sorted(round(float(next(t for t in reversed(line.split()) if t.endswith("ms"))[:-2]))
                for line in lines if " 200 " in line and "/api/nearest" not in line)
    if not ms:
        return "the server logged no heavy 200"
    return (f"{len(ms)} heavy 200s logged by the server (one may land after wrk stops); "
            f"they took {ms[len(ms) // 2]} ms (median), {ms[-1]} ms at most")


def mixed(port: int, seconds: int, clients: str, log: Path | None, label: str = "") -> None:
    """80 connections on the heavy routes while 20 call /api/nearest. Polite heavy clients
    wait as a 503's Retry-After asks, as the pages do; hostile ones ask again at once (the
    per-address rate limit, lifted here, is what stops one such client in service)."""
    heavy = subprocess.Popen([sys.executable, __file__, "--heavy", str(port), str(seconds + 2),
                              clients], stdout=subprocess.PIPE, text=True)
    seen = log.stat().st_size if log else 0
    time.sleep(1.0)
    near = wrk(port, NEAREST_LUA, seconds, 20)
    res = json.loads(heavy.communicate()[0])
    lines = []
    if log:
        with log.open() as fh:
            fh.seek(seen)
            lines = fh.readlines()
    print(f"\nmixed{label}, heavy clients {clients} "
          f"({'honour' if clients == 'polite' else 'ignore'} Retry-After):")
    print(row("  /api/nearest, 20 conns", near))
    print(row("  gaps/hourly/coverage, 80 conns", res))
    print(f"  heavy answers the clients got: {res['ok']} computed or cached (200), "
          f"{res['busy_503']} busy (503, documented), {res['limited_429']} rate-limited (429), "
          f"{res['other']} other")
    counted = res["ok"] + res["busy_503"] + res["limited_429"] + res["other"]
    if counted != res["requests"]:
        print(f"  (the status counts cover {counted} of {res['requests']} answers)")
    if log:
        print(f"  {heavy_times(lines)}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--heavy":
        lua = HEAVY_LUA + (POLITE_LUA if sys.argv[4] == "polite" else "")
        # a planner's page waits for its answer (fetch has no timeout): a heavy answer after
        # 10 s is slow, not lost; the access-log line above shows how slow
        print(json.dumps(wrk(int(sys.argv[2]), lua, int(sys.argv[3]), 80, timeout_s=30)))
    else:
        main()
