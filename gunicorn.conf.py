"""Production server settings (`make serve`, `stations serve`): gunicorn, threaded workers.

The data is loaded once in the master (`preload_app`) and shared copy-on-write by the
workers. Everything can be overridden with environment variables or gunicorn flags.
"""

import os

from app.config import server as _server_settings
from app.serving.request_rules import MAX_URL

wsgi_app = "app:create_app()"
# heavy routes (coverage, gaps, plans, checks) run in this many niced children per worker
os.environ.setdefault("STATIONS_HEAVY_PROCESSES", "1")
_env = _server_settings()  # STATIONS_BIND, STATIONS_WORKERS, STATIONS_THREADS
bind = _env["bind"]
workers = _env["workers"]
worker_class = "app.serving.gunicorn_worker.Worker"  # gthread, with gunicorn's refusals in JSON
limit_request_line = MAX_URL + 64  # longer URLs the app refuses itself (414 JSON) up to here
threads = _env["threads"]  # heavy routes take at most threads - 2
SWITCH_INTERVAL_S = 0.0005  # how often a thread holding the GIL hands it round
preload_app = True  # load the atlas once; workers share it copy-on-write
timeout = 30  # a worker silent this long is restarted
graceful_timeout = 20  # on HUP/TERM, in-flight requests get this long to finish
keepalive = 5
max_requests = 500_000  # recycle workers now and then (memory): at ~1,000 req/s, minutes apart
max_requests_jitter = 50_000
backlog = 256  # connections waiting beyond this are refused, not queued forever
accesslog = os.environ.get("STATIONS_ACCESS_LOG", "-")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'  # %(M)s: request time, ms
errorlog = "-"
loglevel = os.environ.get("STATIONS_LOG_LEVEL", "info")


def post_fork(server, worker):
    """Fork the worker's heavy-route children before it starts a thread; hand the GIL round
    more often, so a fast answer is not stuck behind other work."""
    import sys

    children = getattr(server.app.wsgi(), "extensions", {}).get("heavy_processes")
    if children is not None:  # our app (the bench's bare floor app has none)
        children.start()
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def pre_fork(server, worker):
    """Move the loaded data out of the garbage collector's reach before a worker forks: a
    full collection in a worker writes to every tracked object's header, which copied about
    45 MiB of the shared pages into each worker and child (measured; tests/test_serving.py)."""
    import gc

    gc.freeze()


def on_reload(server):
    """HUP: load the app again (a newly activated dataset version) before the new workers fork
    from it; with preload_app alone they would fork from the old one. If loading fails, the
    old app keeps serving and the error is logged. The old app is unfrozen first, so its
    cycles can be collected once nothing uses it (pre_fork freezes what is live again)."""
    import gc

    gc.unfreeze()
    old = server.app.callable
    server.app.callable = None
    try:
        server.app.wsgi()
    except Exception:  # a bad dataset must not take the server down
        server.log.exception("reload failed; still serving the previous data")
        server.app.callable = old
