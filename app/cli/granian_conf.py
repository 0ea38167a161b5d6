"""granian's settings, in one place: the command line `stations serve --server granian` runs.

Workers and threads come from STATIONS_WORKERS (default: the CPU count) and STATIONS_THREADS
(default 6), as for gunicorn. Backpressure bounds the connections a worker holds at once
(beyond, connections wait in the backlog, which is bounded too); a client that has not sent
its headers in 10 s is dropped; workers are recycled every few hours (memory), a worker that
dies is started again, and a stopping worker gets 20 s to finish what it is answering. The
access log gives each request's time in milliseconds.
"""

from __future__ import annotations

import os

from app.config import server

BACKLOG = 256  # connections waiting beyond this are refused, not queued forever
# granian's backpressure counts a connection while it is open, idle keep-alive included: at
# the thread count, 20 clients that had asked a heavy question kept /api/nearest waiting 20 s
# (tested). The app's own gate bounds the heavy work; this bounds a worker's connections.
CONNECTIONS = 128
HEADER_TIMEOUT_MS = 10_000
WORKER_LIFETIME = "6h"  # recycle workers now and then (memory)
KILL_TIMEOUT = "20s"  # on stop, in-flight requests get this long
ACCESS_LOG_FORMAT = '%(addr)s "%(method)s %(path)s %(query_string)s %(protocol)s" %(status)d ' \
    '%(dt_ms).1fms'
TARGET = "app.cli.granian_app:create"


def command(executable: str) -> list[str]:
    """The granian command line for the environment's settings."""
    env = server()
    host, _, port = env["bind"].rpartition(":")
    log = os.environ.get("STATIONS_ACCESS_LOG", "-")
    return [executable, "-m", "granian", "--interface", "wsgi", "--factory",
            "--host", host or "127.0.0.1", "--port", port or "5000",
            "--workers", str(env["workers"]), "--blocking-threads", str(env["threads"]),
            "--backlog", str(BACKLOG), "--backpressure", str(CONNECTIONS),
            "--http1-header-read-timeout", str(HEADER_TIMEOUT_MS),
            "--workers-lifetime", WORKER_LIFETIME, "--workers-kill-timeout", KILL_TIMEOUT,
            "--respawn-failed-workers",
            *(["--access-log", "--access-log-fmt", ACCESS_LOG_FORMAT]
              if log != "/dev/null" else ["--no-access-log"]),
            "--log-level", os.environ.get("STATIONS_LOG_LEVEL", "info"), TARGET]
