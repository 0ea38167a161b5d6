"""Schemathesis against the real server: `stations serve`'s granian command line (its workers,
threads, backpressure, timeouts and heavy-route children), every documented operation fuzzed
over HTTP with every check but response time (valid and invalid inputs, seeded). What the
in-process run (tests/test_schemathesis.py) cannot see is seen here: the HTTP server's own
refusals, headers and status lines, and the heavy routes answered from the niced children."""

from __future__ import annotations

import os
import subprocess
import sys
from unittest import mock

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.cli import granian_conf
from app.serving.heavy_processes import NICE
from tests.test_schemathesis import CONFIG, DEPENDS, accepted_unless_dependent
from tests.test_serving import ROOT, descendants, free_port, wait
from tests.test_serving_granian import answering, stop

pytestmark = [pytest.mark.xdist_group("fuzz_server"), pytest.mark.slow]  # and server (conftest)
EXAMPLES = 4  # per operation and mode: the in-process run draws more; this one checks the wire
FEWER = {"POST /api/plan": 2, "GET /api/schedule": 2, "GET /api/plan": 2}
CASES: list[str] = []  # every case sent, by operation
UNLIMITED = "1000000 per minute"  # one client asks everything: no per-address limit here


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "STATIONS_TILES": "none", "STATIONS_WORKERS": "1",
           "STATIONS_THREADS": "4", "STATIONS_BIND": f"127.0.0.1:{port}",
           "STATIONS_ACCESS_LOG": "/dev/null", "STATIONS_LOG_LEVEL": "warning",
           "STATIONS_MIP_SECONDS": "2", "STATIONS_RATE_LIMIT": UNLIMITED,
           "STATIONS_WRITE_LIMIT": UNLIMITED, "STATIONS_DEVICE_LIMIT": UNLIMITED,
           "STATIONS_HEAVY_QUEUE_S": "120"}  # a fuzzed request waits its turn, never a 503
    env.pop("STATIONS_DATA", None)
    env.pop("STATIONS_DB_URL", None)
    with mock.patch.dict(os.environ, env):  # command() reads the settings from os.environ
        argv = granian_conf.command(sys.executable)
    argv[-1] = "tests.fuzz_server:create"  # the production target, one limit lowered
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    answering(proc, base)
    # heavy routes are answered by the worker's niced child, as in production
    assert wait(lambda: list(descendants(proc.pid).values()).count(NICE) == 1, 60)
    yield base
    stop(proc)


def run_operation(op, mode: GenerationMode) -> None:
    """Every check but response time, on a few seeded cases of one operation, over HTTP."""
    narrowed = op.label in DEPENDS

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=FEWER.get(op.label, EXAMPLES), derandomize=True, deadline=None,
              database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        CASES.append(op.label)
        case.call_and_validate(
            headers={"Accept-Encoding": "identity"}, timeout=120,
            excluded_checks=[positive_data_acceptance] if narrowed else None,
            additional_checks=[accepted_unless_dependent] if narrowed else None)

    check()


def test_the_running_server_matches_its_document(server):
    schema = schemathesis.openapi.from_url(server + "/api/openapi.json", config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures = []
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run_operation(op, mode)
            except (Exception, BaseExceptionGroup) as exc:  # gather every operation's failures
                failures.append(f"{op.label} [{mode.value}]: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
    assert {op.label for op in operations} <= set(CASES) and len(CASES) >= 4 * len(operations)
