"""Heavy routes run in niced child processes, so they cannot take CPU or the GIL from couriers.

Measured (bench/load.py, mixed case): with 80 clients on gaps and the hourly curve sharing
the worker's threads, `/api/nearest` had a p99 of about 300 ms, its answers waiting for the
GIL and for CPU behind heavy computations; with these children, 55-110 ms on this noisy
machine. Under gunicorn (`STATIONS_HEAVY_PROCESSES` per worker, default 1 in
gunicorn.conf.py) each worker forks its children right after it starts, before it runs any
thread. They share the preloaded data copy-on-write, run at a low priority (NICE: little of
the CPU couriers need, all that they leave) and answer the heavy blueprints' requests
through the same Flask app.

The worker bounds the work waiting for them: at most STATIONS_HEAVY_REQUESTS heavy requests
in flight, beyond which it answers the documented 503 at once. A request is handed to a
child only when one is free; one that finds none free within STATIONS_HEAVY_QUEUE_S is the
same 503, and nothing was started for it (before, up to five requests queued behind a
child's computation, each started however long its client had waited). A request handed
over is waited for up to WAIT_S: when couriers take both cores, a computation of a second
can take ten.

A request is handed over whole (its environ strings and body) and comes back whole (status,
headers, body); every rule, limit, cache and error message stays in the Flask app. Without
children (tests, `stations serve --dev`) nothing changes: heavy routes run in the thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import orjson
from flask import Flask

from app.serving.busy import BUSY, Busy, busy_answer, heavy_gate, precheck
from app.serving.json_provider import OPTIONS
from app.serving.security_headers import security_headers

# nice 10: a tenth of a courier worker's CPU weight (110 against 1024). Measured in the mixed
# case (bench/load.py, couriers saturating both cores, 3 interleaved runs each): against nice
# 19, the heavy clients got 8-11 answers in 12 s instead of 6-10, and couriers' p99 was the
# same within the noise (33-38 ms against 32-42 ms with polite heavy clients)
NICE = 10
_PR_SET_PDEATHSIG = 1
WAIT_S = 120  # a child answer slower than this is given up as a 503
BODY = "stations.body"  # the environ key of a request body read once (see _buffered)
log = logging.getLogger(__name__)
_inner: Callable | None = None  # the Flask WSGI callable the children run (set before fork)


def _child_init() -> None:
    """In a new child: lower its priority, die with the worker, leave signals to it."""
    os.nice(NICE)
    with contextlib.suppress(OSError, AttributeError):  # Linux: a worker killed outright
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)  # takes its children along
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _serve(environ: dict, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    """In a child: run one request through the Flask app, whole."""
    env = {**environ, "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
           "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False}
    started: list = []
    chunks = _inner(env, lambda status, headers, exc_info=None: started.extend(
        [status, headers]))
    try:
        data = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return started[0], list(started[1]), data


def _portable(environ: dict) -> dict:
    """The strings of an environ (what a request is); sockets and streams stay behind."""
    return {k: v for k, v in environ.items()
            if isinstance(v, str) or k == "wsgi.version"}


class HeavyProcesses:
    """WSGI middleware: heavy-route requests to child processes, the rest to the app."""

    def __init__(self, app: Flask, inner: Callable, processes: int):
        self.app, self.inner, self.processes = app, inner, processes
        self.paths = app.extensions["heavy_paths"]
        self.max_body = app.config["MAX_CONTENT_LENGTH"]
        self.places = heavy_gate(app)  # the same count Flask's gate keeps
        self.idle = threading.BoundedSemaphore(processes)  # children computing nothing
        self.queue_s = float(app.config.get("STATIONS_HEAVY_QUEUE_S", 5.0))
        self.pool: ProcessPoolExecutor | None = None
        doc, extra = busy_answer()
        self.busy_body = orjson.dumps(doc, option=OPTIONS)
        self.busy_headers = [("Content-Type", "application/json"),
                             ("Content-Length", str(len(self.busy_body))), *extra,
                             *security_headers(app.config, embed=False, nonce=None)]

    def start(self) -> None:
        """Fork the children now, while this process runs no other thread (gunicorn post_fork)."""
        global _inner
        _inner = self.inner
        self.pool = self._new_pool()
        self.pool.submit(os.getpid).result()  # forks every child before the worker's threads

    def stop(self) -> None:
        """End the children now: a stopping worker has nothing more for them, and a worker
        that is itself a multiprocessing child (granian's) joins its children before it can
        exit, which an idle pool never lets happen."""
        pool, self.pool = self.pool, None
        if pool is None:
            return
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError):
                proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.processes, initializer=_child_init,
                                   mp_context=multiprocessing.get_context("fork"))

    def _heavy(self, environ: dict) -> bool:
        return self.pool is not None and environ.get("PATH_INFO") in self.paths

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not self._heavy(environ) or self._answer_here(environ):
            return self.inner(environ, start_response)
        if not self.places.acquire():
            return self._busy(start_response)
        try:
            answer = self._in_child(environ)
        except Busy:  # the child's answer did not come back within WAIT_S
            return self._busy(start_response)
        finally:
            self.places.release()
        if answer is None:  # could not hand it over: the thread answers, as without children
            return self.inner(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    def _buffered(self, environ: dict) -> bytes | None:
        """The request body, read once and readable again after; None when it cannot travel
        (a bad length, a chunked body, or one larger than the upload limit)."""
        if BODY in environ:
            environ["wsgi.input"] = io.BytesIO(environ[BODY])
            return environ[BODY]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if length > self.max_body or (length == 0 and environ.get("HTTP_TRANSFER_ENCODING")):
            return None
        body = environ[BODY] = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    def _answer_here(self, environ: dict) -> bool:
        """Whether this thread answers at once instead of a child: a parameter is wrong (the
        400 is given before any place or child is taken, however busy they are) or the view
        needs no heavy work; also a body that cannot travel (as before)."""
        if self._buffered(environ) is None:
            return True
        try:
            with self.app.request_context(environ):
                return precheck() is not None
        except Exception:  # the thread's Flask answers it, as it words its errors
            return True
        finally:
            self._buffered(environ)  # the child or the thread reads it whole again

    def _in_child(self, environ: dict) -> tuple[str, list, bytes] | None:
        """The child's answer, or None when the request cannot travel (odd body) or the pool
        broke (it is started again for the next request); Busy when no child is free within
        the queue time, or the answer takes over WAIT_S."""
        body = self._buffered(environ)  # readable again if the thread answers
        if body is None:
            return None
        if not self.idle.acquire(timeout=self.queue_s):  # no child free soon: nothing started
            raise Busy(BUSY)
        future = None
        try:
            future = self.pool.submit(_serve, _portable(environ), body)
            future.add_done_callback(lambda _f: self.idle.release())  # that child is free again
            return future.result(timeout=WAIT_S)
        except BrokenProcessPool:
            log.error("a heavy-route child process died; starting new ones")
            self.pool = self._new_pool()
            return None
        except TimeoutError:
            raise Busy(BUSY) from None
        finally:
            if future is None:  # never handed over
                self.idle.release()

    def _busy(self, start_response: Callable) -> list[bytes]:
        """The documented 503, as Flask's handler words it, without Flask's per-request work:
        clients that ignore Retry-After cost the worker almost nothing."""
        start_response("503 SERVICE UNAVAILABLE", self.busy_headers)
        return [self.busy_body]


def install(app: Flask) -> None:
    """Wrap the app when STATIONS_HEAVY_PROCESSES > 0; `start()` forks (gunicorn post_fork)."""
    n = int(app.config.get("STATIONS_HEAVY_PROCESSES") or 0)
    if n > 0:
        app.wsgi_app = HeavyProcesses(app, app.wsgi_app, n)
        app.extensions["heavy_processes"] = app.wsgi_app

