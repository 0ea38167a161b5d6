"""The app under granian (`stations serve --server granian`), through the real server: it
answers, keeps its refusals in JSON and its security headers, runs heavy routes in niced
children under each worker, refuses a bad heavy question before the gate, and stops cleanly."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from app.serving.heavy_processes import NICE
from tests.test_serving import ROOT, descendants, free_port

pytestmark = pytest.mark.xdist_group("granian")  # one server, in order: the last test stops it
HEAVY_LIMIT = 20  # heavy requests an address may make a minute on this server


@pytest.fixture(scope="module")
def granian_server():
    port = free_port()
    env = {**os.environ, "STATIONS_TILES": "none", "STATIONS_WORKERS": "2",
           "STATIONS_THREADS": "4", "STATIONS_ACCESS_LOG": "/dev/null",
           "STATIONS_LOG_LEVEL": "warning", "STATIONS_RATE_LIMIT": f"{HEAVY_LIMIT} per minute"}
    env.pop("STATIONS_DATA", None)
    stations = Path(sys.executable).parent / "stations"  # the console script
    proc = subprocess.Popen([str(stations), "serve", "--server", "granian", "--port",
                             str(port)], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    answering(proc, base)
    yield proc, base
    stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """End a server started in its own session, workers and children too: TERM, then KILL to
    the whole group (killing granian's main alone leaves its workers running)."""
    import signal

    for sig, seconds in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=seconds)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # what the main left behind


def answering(proc: subprocess.Popen, base: str, seconds: float = 90) -> None:
    """Wait until the server answers /healthz; if it stops or never answers, kill it and say
    what it printed."""
    deadline = time.time() + seconds
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()
            return
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                stop(proc)
                out = proc.stdout.read().decode()[-2000:] if proc.stdout else ""
                raise RuntimeError("the server did not start: " + out) from None
            time.sleep(0.3)


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def test_granian_serves_the_app_with_its_headers_and_json_refusals(granian_server, client):
    _, base = granian_server
    status, headers, body = get(base + "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, headers, body = get(base + "/api/nearest?lat=31.2304&lng=121.4737&k=3")
    assert status == 200
    assert json.loads(body)["features"] == \
        client.get("/api/nearest?lat=31.2304&lng=121.4737&k=3").get_json()["features"]
    assert headers["x-content-type-options"] == "nosniff"  # HTTP header names: any case
    assert "content-security-policy" in headers
    status, _, body = get(base + "/api/nearest?lat=31.23&lng=121.47&q=" + "x" * 6000)
    assert status == 414 and json.loads(body)["param"] == "url"
    status, _, body = get(base + "/api/gaps?type=nosuch")
    assert status == 400 and json.loads(body)["param"] == "type"


def test_granian_workers_run_heavy_routes_in_niced_children(granian_server, client):
    proc, base = granian_server
    status, _, body = get(base + "/api/coverage?type=health&threshold_m=900")
    assert status == 200
    assert json.loads(body)["summary"] == \
        client.get("/api/coverage?type=health&threshold_m=900").get_json()["summary"]
    from tests.test_serving import wait

    # one niced child under each of the two workers (the second may still be loading: the
    # server answered as soon as one worker had)
    assert wait(lambda: list(descendants(proc.pid).values()).count(NICE) == 2, 60)


def test_clients_that_asked_heavy_questions_do_not_keep_couriers_waiting(granian_server):
    """Sixteen connections that asked a heavy question stay open (as pages do, waiting for an
    answer or a Retry-After): a courier's /api/nearest on a new connection is still answered
    at once. With granian's backpressure at the thread count it waited 20 s."""
    import socket

    _, base = granian_server
    port = int(base.rsplit(":", 1)[1])
    held = []
    try:
        for _ in range(16):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"GET /api/coverage?type=health&threshold_m=900 HTTP/1.1\r\n"
                      b"Host: test\r\n\r\n")
            held.append(s)
        time.sleep(0.5)
        for _ in range(3):
            t0 = time.monotonic()
            assert get(base + "/api/nearest?lat=31.23&lng=121.47")[0] == 200
            assert time.monotonic() - t0 < 3
    finally:
        for s in held:
            s.close()


def test_granian_keeps_the_per_address_limit_on_heavy_routes(granian_server):
    """Beyond the limit a heavy route answers 429 JSON with Retry-After; the courier's path
    is not limited. (Each worker counts on its own, as under gunicorn: at most twice.)"""
    _, base = granian_server
    statuses, limited = [], None
    for _ in range(3 * HEAVY_LIMIT):
        status, headers, body = get(base + "/api/coverage?type=health&threshold_m=900")
        statuses.append(status)
        if status == 429:
            limited = (headers, json.loads(body))
            break
    assert limited is not None and statuses.count(200) <= 2 * HEAVY_LIMIT
    headers, body = limited
    assert int(headers["retry-after"]) > 0 and "error" in body
    assert get(base + "/api/nearest?lat=31.23&lng=121.47")[0] == 200


def post(url: str, body: bytes, kind: str = "application/json") -> tuple[int, dict, dict]:
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": kind})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, json.loads(e.read())


def test_granian_takes_couriers_writes_with_their_repeats_refusals_and_limits(granian_server,
                                                                              atlas):
    """Through the write lane and Flask behind it: 201 with the new id, 200 for a repeat,
    a 400 naming what is wrong, and the device's limit (10 a minute, counted per worker) as
    429 JSON with Retry-After."""
    _, base = granian_server
    ids = atlas.stations["id"].tolist()
    url = base + "/api/stations/{}/checkins"
    status, headers, first = post(url.format(ids[0]), b'{"device": "granian-courier-01"}')
    assert status == 201 and "content-security-policy" in headers
    assert post(url.format(ids[0]), b'{"device": "granian-courier-01"}')[::2] == \
        (200, {"id": first["id"], "duplicate": True})
    status, _, body = post(url.format(ids[0]), b'{"device": 7}')
    assert status == 400 and body["param"] == "device"
    status, _, body = post(url.format("nope"), b'{"device": "granian-courier-01"}')
    assert status == 400 and body["param"] == "station_id"
    answers = [post(url.format(sid), b'{"device": "granian-courier-02"}') for sid in ids[1:31]]
    statuses = [a[0] for a in answers]
    assert 10 <= statuses.count(201) <= 20 and 429 in statuses  # 10 a minute in each worker
    _, headers, body = answers[statuses.index(429)]
    assert int(headers["retry-after"]) > 0 and "limit is 10 per 1 minute" in body["error"]


def test_granian_stops_on_term_at_once_and_leaves_no_process(granian_server):
    """Each worker ends its heavy-route children as it stops (a multiprocessing finalizer):
    without it, the idle pool kept the worker until granian's kill timeout (20 s)."""
    proc, _ = granian_server
    below = set(descendants(proc.pid))
    assert len(below) >= 4  # the granian main, two workers, their children
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=45) == 0
    assert time.monotonic() - t0 < 10  # stopped, not killed after the 20 s timeout
    deadline = time.time() + 10
    while time.time() < deadline and any(os.path.exists(f"/proc/{p}") for p in below):
        time.sleep(0.2)
    assert not [p for p in below if os.path.exists(f"/proc/{p}")]


def test_granian_hup_serves_the_new_version_and_keeps_serving_when_one_does_not_load(
        tmp_path, atlas):
    """kill -HUP: new workers load the newly activated version and the old ones (children
    too) are gone; a version that does not load leaves the server answering on the one
    before, where granian alone would stop after a crash loop."""
    from tests.test_serving import (
        hup_to_the_second_version,
        our_processes,
        stations_served,
        two_versions,
        wait,
    )

    ds, versions, truth = two_versions(tmp_path, atlas)
    port = free_port()
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "STATIONS_TILES": "none",
           "STATIONS_WORKERS": "2", "STATIONS_THREADS": "4", "STATIONS_DATA": str(ds),
           "STATIONS_ACCESS_LOG": "/dev/null", "STATIONS_BIND": f"127.0.0.1:{port}"}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "stations"), "serve",
                             "--server", "granian", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    try:
        hup_to_the_second_version(proc, port, ds, versions, len(truth))
        broken = ds / "versions" / "99999999T999999-broken"
        broken.mkdir()
        (broken / "stations.geojson").write_text("{not json", "utf-8")
        (ds / "LIVE").write_text(broken.name + "\n", "utf-8")
        workers = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        before = set(workers.read_text().split())
        os.kill(proc.pid, signal.SIGHUP)
        # both workers replaced by ones that tried the broken version (and fell back)
        assert wait(lambda: len(now := set(workers.read_text().split())) == 2
                    and not now & before, 60)
        assert proc.poll() is None
        assert wait(lambda: stations_served(port) == 5)  # still the good data
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert wait(lambda: not our_processes(port), 10)  # and nothing outlives the server
