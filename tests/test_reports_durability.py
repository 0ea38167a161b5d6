"""No acknowledged write is lost: couriers post reports while the production server (master,
workers and all) is killed with SIGKILL and started again; every report answered 201 is then
in the database, as sent."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.reports.db import engine_for, reports
from geo.reports.store import token_hash
from tests.test_serving import ROOT, free_port

STATIONS = ["relay-0001", "relay-0002", "health-0001", "fitness-0001"]


def start(port: int, url: str, server: str = "gunicorn") -> subprocess.Popen:
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "STATIONS_TILES": "none",
           "STATIONS_WORKERS": "2", "STATIONS_HEAVY_PROCESSES": "0",
           "STATIONS_ACCESS_LOG": "/dev/null", "STATIONS_BIND": f"127.0.0.1:{port}",
           "STATIONS_DB_URL": url, "STATIONS_WRITE_LIMIT": "100000 per minute",
           "STATIONS_DEVICE_LIMIT": "100000 per minute"}
    command = ([str(Path(sys.executable).with_name("gunicorn")), "-c",
                str(ROOT / "gunicorn.conf.py")] if server == "gunicorn" else
               [str(Path(sys.executable).with_name("stations")), "serve", "--server", "granian",
                "--port", str(port)])
    return subprocess.Popen(command, cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # its own group: one SIGKILL for all


def post(port: int, station: str, body: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", f"/api/stations/{station}/reports", json.dumps(body),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def wait_up(port: int, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


@pytest.mark.parametrize("server", ["gunicorn", "granian"])
def test_sigkill_loses_no_acknowledged_report(tmp_path, server):
    """On SQLite, the default (WAL, synchronous=FULL): the store whose durability is ours to
    get right; PostgreSQL's is the server's, and its round trips are tested elsewhere."""
    from geo.reports.db import upgrade

    db_url = f"sqlite:///{tmp_path / 'reports.db'}"
    upgrade(db_url)
    port = free_port()
    acked: dict[int, tuple[str, str, str]] = {}
    refused = [0]
    stop = threading.Event()
    lock = threading.Lock()

    def courier(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            station, device = STATIONS[i % len(STATIONS)], f"durable-{n:02d}-{i:06d}"
            kind = ("closed", "not_found", "other")[i % 3]
            try:
                status, body = post(port, station, {"kind": kind, "device": device})
            except (OSError, http.client.HTTPException, ValueError):
                with lock:
                    refused[0] += 1
                time.sleep(0.02)
                continue
            if status == 201:
                with lock:
                    acked[body["id"]] = (station, token_hash(device), kind)

    proc = start(port, db_url, server)
    couriers = [threading.Thread(target=courier, args=(n,)) for n in range(6)]
    try:
        wait_up(port)
        for th in couriers:
            th.start()
        time.sleep(1.0)
        before = len(acked)
        os.killpg(proc.pid, signal.SIGKILL)  # master and workers, mid-write
        proc.wait(timeout=10)
        time.sleep(0.3)
        proc = start(port, db_url, server)
        wait_up(port)
        deadline = time.time() + 30  # writes after the restart (a loaded machine is slower)
        while len(acked) <= before + 20 and time.time() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        for th in couriers:
            th.join(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the second run ends the same way
        proc.wait(timeout=30)
    assert before > 20 and len(acked) > before + 20  # writes before and after the kill
    assert refused[0] > 0  # and some were refused while the server was down
    engine = engine_for(db_url)
    with engine.connect() as conn:
        stored = {r.id: (r.station_id, r.device, r.kind) for r in conn.execute(
            sa.select(reports.c.id, reports.c.station_id, reports.c.device, reports.c.kind))}
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    engine.dispose()
    lost = {rid: row for rid, row in acked.items() if stored.get(rid) != row}
    assert not lost, f"{len(lost)} acknowledged reports missing, e.g. {list(lost.items())[:3]}"
