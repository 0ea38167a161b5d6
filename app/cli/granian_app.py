"""The app as granian's workers load it (`stations serve --server granian`).

Granian loads the app in each worker (there is no preloading master to share it from), so
each worker runs `create()`: the app, then its niced heavy-route children forked before the
worker serves a request (as gunicorn's post_fork does), and the GIL handed round as often.
"""

from __future__ import annotations

import logging
import os
import sys
from multiprocessing.util import Finalize

from flask import Flask

from app import create_app
from geo.io.datasets import earlier_versions, is_versioned

log = logging.getLogger(__name__)
SWITCH_INTERVAL_S = 0.0005  # as under gunicorn: a fast answer is not stuck behind other work


def create() -> Flask:
    """One worker's app, its heavy-route children started (one unless
    STATIONS_HEAVY_PROCESSES says otherwise, as in gunicorn.conf.py)."""
    os.environ.setdefault("STATIONS_HEAVY_PROCESSES", "1")
    app = _load()
    children = app.extensions.get("heavy_processes")
    if children is not None:
        children.start()
        # granian's worker is a multiprocessing child: on exit it runs these finalizers, then
        # joins its own children, so the pool must be ended here (measured: TERM took the 20 s
        # kill timeout with the pool left idle, 0.2 s without children)
        Finalize(None, children.stop, exitpriority=10)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return app


def _load() -> Flask:
    """The app on the live dataset version; if that does not load (a broken version made
    live, then HUP), the newest earlier version that does, so the server keeps answering on
    the data it had (gunicorn keeps its old master copy; granian has none, and would stop
    after a crash loop)."""
    try:
        return create_app()
    except Exception:
        data = os.environ.get("STATIONS_DATA")
        if not data or not is_versioned(data):
            raise
        log.exception("the live dataset version of %s does not load; serving an earlier one",
                      data)
        for name in earlier_versions(data):
            os.environ["STATIONS_DATA_VERSION"] = name
            try:
                return create_app()
            except Exception:
                log.exception("version %s does not load either", name)
        os.environ.pop("STATIONS_DATA_VERSION", None)
        raise
