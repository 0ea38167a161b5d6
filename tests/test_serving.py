"""The production server: gunicorn with the repo's config, /healthz."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.serving.heavy_processes import NICE

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz(client, atlas):
    r = client.get("/healthz")
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "ok"
    assert body["version"] == atlas.version and body["sample"] is True
    assert body["stations"] == {"relay": 1309, "health": 132, "fitness": 71}
    assert body["uptime_s"] >= 0 and r.headers["Cache-Control"] == "no-store"


def descendants(pid: int) -> dict[int, int]:
    """Every process below `pid`, with its nice value (from /proc)."""
    procs = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        procs[int(stat.parent.name)] = (int(fields[1]), int(fields[16]))  # ppid, nice
    found, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, nice) in procs.items():
            if ppid == parent:
                found[child] = nice
                todo.append(child)
    return found


def heavy_routes_run_in_niced_children(port: int, master: int, client) -> None:
    """Each worker forked one heavy-route child at the lowest priority; their answers (a GET
    and a POST with a body) are the in-process app's."""
    base = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(base + "/api/coverage?type=health&threshold_m=900",
                                timeout=60) as r:
        served = json.loads(r.read())
    assert served == client.get("/api/coverage?type=health&threshold_m=900").get_json()
    body = json.dumps({"type": "relay", "add": [[121.47, 31.23]]}).encode()
    req = urllib.request.Request(base + "/api/scenario", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        served = json.loads(r.read())
    assert served == client.post("/api/scenario", json=json.loads(body)).get_json()
    nice = descendants(master)
    assert sorted(nice.values()) == [0, 0, NICE, NICE]  # two workers, a niced child under each


def test_a_worker_with_every_heavy_place_taken_answers_flasks_503_itself(app):
    """The worker bounds what waits for its children with Flask's own gate: beyond it, the
    503 Flask's handler gives (same status, headers and bytes), without a child or Flask."""
    from werkzeug.test import Client

    from app.serving.busy import heavy_gate
    from app.serving.heavy_processes import HeavyProcesses

    inner = app.wsgi_app.inner  # the app below the nearest lane
    mw = HeavyProcesses(app, inner, 1)
    assert mw.places is heavy_gate(app)  # one count of heavy requests, not two
    mw.pool = object()  # as if started; no place is free, so it is never used
    taken = 0
    while mw.places.acquire():
        taken += 1
    try:
        r = Client(mw).get("/api/gaps?type=relay&threshold_m=777")
        flask = Client(inner).get("/api/gaps?type=relay&threshold_m=777")  # Flask's gate
        nearest = Client(mw).get("/api/nearest?lat=31.2&lng=121.4")
    finally:
        for _ in range(taken):
            mw.places.release()
    assert taken == app.config["STATIONS_HEAVY_REQUESTS"]
    assert r.status_code == flask.status_code == 503 and r.headers["Retry-After"] == "2"
    assert "retry" in r.get_json()["error"]
    assert sorted(r.headers.items()) == sorted(flask.headers.items())
    assert r.get_data() == flask.get_data()
    assert nearest.status_code == 200


def test_stations_serve_runs_gunicorn_with_the_config(tmp_path, client):
    port = free_port()
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "STATIONS_TILES": "none", "STATIONS_WORKERS": "2"}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("stations")), "serve",
                             "--server", "gunicorn", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, body = time.time() + 60, None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = json.loads(r.read())
                break
            except OSError:
                time.sleep(0.2)
        assert body and body["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/nearest?lat=31.2304&"
                                    "lng=121.4737", timeout=5) as r:
            assert len(json.loads(r.read())["features"]) == 5
        heavy_routes_run_in_niced_children(port, proc.pid, client)
        refusals_are_json_like_the_apps(port, client)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert "Using worker: app.serving.gunicorn_worker.Worker" in out  # the config's worker class
    assert "Booting worker" in out and out.count("Booting worker") == 2
    assert "/api/nearest" in out and "ms" in out  # the access log with request time




def refusals_are_json_like_the_apps(port: int, client) -> None:
    """URLs too long, whether the app or gunicorn refuses them, and a malformed request: JSON,
    not gunicorn's HTML page, and the 414's body is the app's (as the test client sees it)."""
    import urllib.error

    from gunicorn.workers.gthread import ThreadWorker

    from app.serving.gunicorn_worker import Worker

    assert issubclass(Worker, ThreadWorker)
    app_414 = client.get("/api/nearest?lat=" + "9" * 5000 + "&lng=121.4")
    assert app_414.status_code == 414
    for n in (5000, 10_000):  # the app refuses the first, gunicorn the second
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/nearest?lat={'9' * n}&"
                                   "lng=121.4", timeout=10)
        assert e.value.code == 414 and e.value.headers["Content-Type"] == "application/json"
        assert json.loads(e.value.read()) == app_414.get_json()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"NOT A REQUEST LINE\r\n\r\n")
        raw = s.makefile("rb").read()
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 400") and b"Content-Type: application/json" in head
    assert json.loads(body)["error"].startswith("Bad Request")

@pytest.mark.parametrize(("server", "args", "env", "says"), [
    ("granian", [], {"STATIONS_WORKERS": "two"}, "STATIONS_WORKERS must be a whole number"),
    ("granian", [], {"STATIONS_THREADS": "0"}, "STATIONS_THREADS must be a whole number, 1 or "
                                              "more"),
    ("granian", [], {"STATIONS_HEAVY_QUEUE_S": "soon"}, "STATIONS_HEAVY_QUEUE_S must be a number"),
    ("granian", [], {"STATIONS_TILES": "bogus"}, "STATIONS_TILES must be one of"),
    ("granian", ["--data", "missing.geojson"], {}, "missing.geojson: file not found"),
    # gunicorn's start checks its own settings first, then the app's (one of each)
    ("gunicorn", [], {"STATIONS_WORKERS": "two"}, "STATIONS_WORKERS must be a whole number"),
    ("gunicorn", ["--data", "missing.geojson"], {}, "missing.geojson: file not found"),
])
def test_what_stops_the_server_is_one_error_line_and_exit_2(tmp_path, server, args, env, says):
    """A bad setting or data file under `stations serve`: the CLI's one line, not a traceback
    from the server (nor granian's workers failing in a loop), and nothing left running."""
    port = free_port()
    path = str(Path(sys.executable).parent) + ":/usr/bin:/bin"
    out = subprocess.run([str(Path(sys.executable).with_name("stations")), *args, "serve",
                          "--server", server, "--port", str(port)], cwd=tmp_path,
                         capture_output=True, text=True,
                         timeout=60, env={"PATH": path, **env})
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ") and says in lines[0]
    assert "Traceback" not in out.stdout and not our_processes(port)

def test_heavy_work_beyond_the_slots_is_503_with_retry_after_and_cached_answers_still_flow():
    from app import create_app
    from app.serving.busy import _slots

    app = create_app({"STATIONS_TILES": "none", "STATIONS_HEAVY_MAX": 1})
    client = app.test_client()
    assert client.get("/api/gaps?type=relay&limit=3").status_code == 200  # now cached
    with app.app_context():
        slots = _slots()
    assert slots.acquire(blocking=False)  # someone else's heavy computation is running
    try:
        r = client.get("/api/gaps?type=relay&threshold_m=777&limit=3")
        assert r.status_code == 503 and r.headers["Retry-After"] == "2"
        assert "retry" in r.get_json()["error"] and r.mimetype == "application/json"
        r = client.post("/api/scenario", json={"type": "relay", "add": [[121.47, 31.23]]})
        assert r.status_code == 503
        assert client.get("/api/gaps?type=relay&limit=3").status_code == 200  # from cache
        assert client.get("/api/nearest?lat=31.23&lng=121.47").status_code == 200
    finally:
        slots.release()
    assert client.get("/api/gaps?type=relay&threshold_m=777&limit=3").status_code == 200


def test_heavy_routes_are_rate_limited_per_address_with_429_json():
    from app import create_app

    app = create_app({"STATIONS_TILES": "none", "STATIONS_RATE_LIMIT": "3 per minute"})
    client = app.test_client()
    codes = [client.get("/api/coverage?type=relay").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.get("/api/gaps?type=relay&limit=2")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "too many requests" in r.get_json()["error"]
    # the courier's path and other addresses are not limited
    assert client.get("/api/nearest?lat=31.2&lng=121.4").status_code == 200
    other = client.get("/api/coverage?type=relay", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_heavy_routes_beyond_the_gate_are_refused_while_nearest_flows():
    from app import create_app
    from app.serving.busy import heavy_gate

    app = create_app({"STATIONS_TILES": "none", "STATIONS_HEAVY_REQUESTS": 1})
    client = app.test_client()
    assert client.get("/api/coverage?type=relay").status_code == 200
    gate = heavy_gate(app)
    assert gate.acquire()  # another heavy request is in progress
    try:
        r = client.get("/api/coverage?type=relay")  # even a cached answer waits its turn
        assert r.status_code == 503 and r.headers["Retry-After"] == "2"
        assert client.get("/api/nearest?lat=31.2&lng=121.4").status_code == 200
    finally:
        gate.release()
    assert client.get("/api/coverage?type=relay").status_code == 200


def test_heavy_places_leave_two_threads_for_couriers(monkeypatch):
    """With 4 threads and 6 heavy places, heavy requests waiting for the child held every
    thread and /api/nearest answered nothing (bench/load.py); now capped."""
    from app.config import heavy_requests

    monkeypatch.setenv("STATIONS_THREADS", "4")
    monkeypatch.setenv("STATIONS_HEAVY_REQUESTS", "6")
    assert heavy_requests() == 2
    monkeypatch.setenv("STATIONS_HEAVY_REQUESTS", "1")
    assert heavy_requests() == 1
    monkeypatch.setenv("STATIONS_THREADS", "8")
    monkeypatch.delenv("STATIONS_HEAVY_REQUESTS")
    assert heavy_requests() == 4  # the default places
    monkeypatch.delenv("STATIONS_THREADS")
    assert heavy_requests() == 4  # the default 6 threads less two
    monkeypatch.setenv("STATIONS_THREADS", "2")
    assert heavy_requests() == 1  # one thread each, at the least



@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf"])
def test_a_queue_time_that_is_no_duration_stops_the_start_naming_the_setting(monkeypatch,
                                                                             value):
    from app.config import from_env

    monkeypatch.setenv("STATIONS_HEAVY_QUEUE_S", value)
    with pytest.raises(ValueError, match="STATIONS_HEAVY_QUEUE_S"):
        from_env()
    monkeypatch.setenv("STATIONS_HEAVY_QUEUE_S", "0.5")
    assert from_env()["STATIONS_HEAVY_QUEUE_S"] == 0.5

def two_versions(tmp_path: Path, atlas) -> tuple[Path, list[dict], list]:
    """A dataset with two versions (every 150th station, then five of them), the first live."""
    from tests.test_import import gbk_csv, run

    ds = tmp_path / "ds"
    truth = [(r.district, r.lon, r.lat) for r in atlas.stations.iloc[::150].itertuples()]
    for name, rows in (("a.csv", truth), ("b.csv", truth[:5])):
        assert run("import", str(gbk_csv(tmp_path / name, rows)), "--type", "relay", "--crs",
                   "gcj02", "--dataset", str(ds))[0] == 0
        time.sleep(1.1)  # versions are named by the second
    versions = json.loads(run("datasets", "--dataset", str(ds), "--json")[1])
    assert run("datasets", "--dataset", str(ds), "--use", versions[0]["version"])[0] == 0
    return ds, versions, truth


def stations_served(port: int) -> int | None:
    """How many stations the server on `port` says it serves (None while it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return sum(json.loads(r.read())["stations"].values())
    except OSError:
        return None


def wait(pred, seconds: float = 60) -> bool:
    """True once `pred` holds five times running: while workers are replaced (one by one under
    granian), answers may come from old and new workers alike."""
    deadline, streak = time.time() + seconds, 0
    while time.time() < deadline and streak < 5:
        streak = streak + 1 if pred() else 0
        time.sleep(0.1)
    return streak >= 5


def hup_to_the_second_version(proc, port: int, ds: Path, versions: list[dict],
                              first: int) -> None:
    """The server answers on the first version (main, 2 workers, 2 children); after the
    second is made live and the server gets HUP it answers on it, and every old worker and
    child is gone."""
    import os
    import signal

    from tests.test_import import run

    assert wait(lambda: stations_served(port) == first)
    assert wait(lambda: len(our_processes(port)) == 5)
    before = set(our_processes(port)) - {proc.pid}
    assert run("datasets", "--dataset", str(ds), "--use", versions[1]["version"])[0] == 0
    os.kill(proc.pid, signal.SIGHUP)
    assert wait(lambda: stations_served(port) == 5)
    assert wait(lambda: len(our_processes(port)) == 5 and not
                before & set(our_processes(port)))  # the old ones, children too, are gone


def our_processes(port: int) -> list[int]:
    """Every process started for this server (its environment names the port)."""
    mark = f"STATIONS_BIND=127.0.0.1:{port}".encode()
    found = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark in env.read_bytes().split(b"\0"):
                found.append(int(env.parent.name))
        except OSError:
            continue
    return found


def test_hup_serves_the_newly_activated_version_and_leaves_no_orphans(tmp_path, atlas):
    """kill -HUP: new workers (and their heavy children) load the live dataset version; the
    old workers and children are gone."""


    ds, versions, truth = two_versions(tmp_path, atlas)
    port = free_port()
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "STATIONS_TILES": "none",
           "STATIONS_WORKERS": "2", "STATIONS_DATA": str(ds), "STATIONS_ACCESS_LOG": "/dev/null",
           "STATIONS_BIND": f"127.0.0.1:{port}"}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c",
                             str(ROOT / "gunicorn.conf.py")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    try:
        hup_to_the_second_version(proc, port, ds, versions, len(truth))
        assert wait(lambda: sorted(descendants(proc.pid).values()) == [0, 0, NICE, NICE])
    finally:  # (an old worker may be a zombie for a moment, until the master reaps it)
        proc.terminate()
        proc.wait(timeout=30)
    assert wait(lambda: not our_processes(port), 10)  # and nothing outlives the master


def test_the_warm_up_thread_takes_no_slot(app):
    """A thread marked with needs_no_slot computes even when every slot is taken; a request
    thread then gets the documented Busy."""
    import threading

    from app.serving.busy import Busy, _slots, heavy_slot, needs_no_slot

    with app.app_context():
        slots = _slots()
    held = [slots.acquire(blocking=False) for _ in range(app.config["STATIONS_HEAVY_MAX"])]
    seen = {}

    def warm() -> None:
        needs_no_slot()
        with app.app_context(), heavy_slot():
            seen["warm"] = True

    try:
        t = threading.Thread(target=warm)
        t.start()
        t.join(10)
        with app.app_context(), pytest.raises(Busy), heavy_slot():
            pass
    finally:
        for ok in held:
            if ok:
                slots.release()
    assert all(held) and seen == {"warm": True}



def test_the_hour_slider_warm_up_waits_while_a_heavy_request_is_answered(monkeypatch):
    """The warm-up computes between heavy requests, never beside one: while one is in flight
    it asks for no hour; once none is, it goes through the day."""
    import threading

    from app import create_app
    from app.api import coverage as coverage_api
    from app.serving.busy import enter_heavy_route, leave_heavy_route

    asked: list[str] = []  # the hours the warm-up thread asked for
    real = coverage_api.coverage_for

    def spy(spec):
        if threading.current_thread().name == "warm-day":
            asked.append(spec.at)
        return real(spec)

    monkeypatch.setattr(coverage_api, "coverage_for", spy)
    app = create_app({"STATIONS_TILES": "none"})
    entered, done = threading.Event(), threading.Event()

    def other_request() -> None:  # a heavy request being answered, until the test is done
        with app.test_request_context("/api/gaps"):
            enter_heavy_route()
            entered.set()
            done.wait(30)
            leave_heavy_route()

    t = threading.Thread(target=other_request)
    t.start()
    try:
        assert entered.wait(10)
        r = app.test_client().get("/api/coverage/hourly?type=fitness&weekday=4")
        assert r.status_code == 200 and app.extensions["warming"]  # the warm-up has started
        time.sleep(1.0)
        assert asked == [] and app.extensions["warming"]  # and waits
    finally:
        done.set()
        t.join(10)
    deadline = time.time() + 60
    while app.extensions["warming"] and time.time() < deadline:
        time.sleep(0.05)
    assert not app.extensions["warming"] and len(asked) == 24  # the day, hour by hour

def test_a_child_too_slow_is_a_503_and_frees_its_place(app, monkeypatch):
    """An answer not back within WAIT_S: the documented 503, and the place is given back."""
    from concurrent.futures import Future

    from werkzeug.test import Client

    from app.serving import heavy_processes
    from app.serving.heavy_processes import HeavyProcesses

    class Stuck:
        def submit(self, *args):
            return Future()  # never done

    monkeypatch.setattr(heavy_processes, "WAIT_S", 0.05)
    mw = HeavyProcesses(app, app.wsgi_app.inner, 1)
    mw.pool = Stuck()
    free = mw.places.free
    r = Client(mw).get("/api/gaps?type=relay")
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert mw.places.free == free



def test_a_request_that_finds_no_child_free_in_time_is_a_503_and_starts_nothing(app):
    """While the one child computes, the next heavy request waits at most the queue time for
    it, then is the documented 503 without being handed over; once the child's answer is
    back, the child takes the next request at once."""
    import threading
    from concurrent.futures import Future

    from werkzeug.test import Client

    from app.serving.heavy_processes import HeavyProcesses

    class Pool:  # a child whose first answer comes when the test says so
        def __init__(self):
            self.futures: list[Future] = []

        def submit(self, *args):
            self.futures.append(Future())
            if len(self.futures) > 1:
                self.futures[-1].set_result(("200 OK", [("Content-Type", "text/plain")],
                                             b"second"))
            return self.futures[-1]

    mw = HeavyProcesses(app, app.wsgi_app.inner, 1)
    mw.pool, mw.queue_s = Pool(), 0.3
    free = mw.places.free
    first: list = []
    t = threading.Thread(target=lambda: first.append(Client(mw).get("/api/gaps?type=relay")))
    t.start()
    deadline = time.time() + 10
    while not mw.pool.futures and time.time() < deadline:
        time.sleep(0.01)
    assert len(mw.pool.futures) == 1  # the first request is with the child
    t0 = time.perf_counter()
    r = Client(mw).get("/api/gaps?type=health")
    waited = time.perf_counter() - t0
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert "retry" in r.get_json()["error"]
    assert 0.3 <= waited < 5 and len(mw.pool.futures) == 1  # waited, then started nothing
    mw.pool.futures[0].set_result(("200 OK", [("Content-Type", "text/plain")], b"first"))
    t.join(10)
    assert first[0].status_code == 200 and first[0].get_data() == b"first"
    t0 = time.perf_counter()
    again = Client(mw).get("/api/gaps?type=health")
    assert again.get_data() == b"second" and time.perf_counter() - t0 < 0.3  # no wait now
    assert mw.places.free == free and mw.idle._value == 1


def _dirty_growth_of_a_collection_in_a_child() -> float:
    """MiB of private pages a full garbage collection writes in a forked child: what a worker
    copies of the data it shares with the master."""
    import gc
    import os
    import select
    import signal

    def private_dirty() -> float:
        text = Path("/proc/self/smaps_rollup").read_text()
        return float(text.split("Private_Dirty:")[1].split()[0]) / 1024

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report, leave without running anything of pytest's
        try:
            before = private_dirty()
            gc.collect()
            os.write(write, str(private_dirty() - before).encode())
        finally:
            os._exit(0)
    os.close(write)
    ready = select.select([read], [], [], 60)[0]  # a child stuck on a lock is killed, not waited
    if not ready:
        os.kill(pid, signal.SIGKILL)
    with os.fdopen(read) as fh:
        grown = float(fh.read() or "nan") if ready else float("nan")
    os.waitpid(pid, 0)
    return grown


def test_workers_keep_sharing_the_loaded_data_after_a_collection(app):
    """gunicorn.conf.py's pre_fork freezes what the master loaded out of the collector, so a
    collection in a worker leaves the shared pages shared; without it, tens of MiB copy."""
    import gc
    import runpy
    from unittest import mock

    assert app.extensions["atlas"] is not None  # the loaded app lives in this process
    gc.collect()
    unfrozen = _dirty_growth_of_a_collection_in_a_child()
    with mock.patch.dict("os.environ"):  # the config sets defaults in the environment
        conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    conf["pre_fork"](None, None)
    try:
        frozen = _dirty_growth_of_a_collection_in_a_child()
    finally:
        gc.unfreeze()
    print(f"a collection in a forked worker copies {unfrozen:.1f} MiB; frozen {frozen:.1f} MiB")
    assert unfrozen > 10, unfrozen  # the measure sees the copying it guards against
    assert frozen < 3, frozen


BAD_HEAVY = [("/api/gaps?type=nosuch", "type"), ("/api/plan?type=relay&k=0", "k"),
             ("/api/coverage?type=relay&at=tomorrow", "at"),
             ("/api/coverage/hourly?type=relay&weekday=%D9%A1", "weekday"),
             ("/api/schedule?type=relay&budget_hours=0", "budget_hours"),
             ("/api/gaps?type=relay&format=csv&simplify=1", "simplify")]


@pytest.mark.parametrize("url, param", BAD_HEAVY)
def test_a_request_that_can_never_succeed_is_a_400_even_when_every_place_is_taken(app, url,
                                                                                   param):
    """Parameters are checked before the worker's gate, its children and Flask's slots: a
    client told to retry would retry for ever."""
    from werkzeug.test import Client

    from app.serving.busy import _slots
    from app.serving.heavy_processes import HeavyProcesses

    inner = app.wsgi_app.inner
    mw = HeavyProcesses(app, inner, 1)
    mw.pool = object()  # as if started: nothing may reach it
    taken = 0
    while mw.places.acquire():
        taken += 1
    with app.app_context():
        slots = _slots()
    held = 0
    while slots.acquire(blocking=False):
        held += 1
    try:
        via_worker = Client(mw).get(url)
        via_flask = Client(inner).get(url)
        good = Client(mw).get("/api/gaps?type=relay&threshold_m=779")
    finally:
        for _ in range(taken):
            mw.places.release()
        for _ in range(held):
            slots.release()
    for r in (via_worker, via_flask):
        assert r.status_code == 400 and r.get_json()["param"] == param, r.get_data()[:200]
        assert "Retry-After" not in r.headers
    assert good.status_code == 503 and good.headers["Retry-After"] == "2"


def test_a_bad_scenario_body_is_a_400_while_the_slots_are_busy():
    from app import create_app
    from app.serving.busy import _slots

    app = create_app({"STATIONS_TILES": "none", "STATIONS_HEAVY_MAX": 1})
    client = app.test_client()
    with app.app_context():
        slots = _slots()
    assert slots.acquire(blocking=False)
    try:
        bad = client.post("/api/scenario", json={"type": "relay", "remove": ["no-such"]})
        worse = client.post("/api/plan", json={"type": "relay", "candidates": {"type": "x"}})
        fine = client.post("/api/scenario", json={"type": "relay", "add": [[121.47, 31.23]]})
    finally:
        slots.release()
    assert bad.status_code == 400 and bad.get_json()["param"] == "remove"
    assert worse.status_code == 400 and worse.get_json()["param"] == "candidates"
    assert fine.status_code == 503
