"""The app as granian's workers load it (`stations serve --server granian`).

Granian loads the app in each worker (there is no preloading master to share it from), so
each worker runs `create()`: the app, then its niced heavy-route children forked before the
worker serves a request (as gunicorn's post_fork does), and the GIL handed round as often.
"""

from __future__ import annotations

import sys
from multiprocessing.util import Finalize

from flask import Flask

from app import create_app

SWITCH_INTERVAL_S = 0.0005  # as under gunicorn: a fast answer is not stuck behind other work


def create() -> Flask:
    """One worker's app, its heavy-route children started."""
    app = create_app()
    children = app.extensions.get("heavy_processes")
    if children is not None:
        children.start()
        # granian's worker is a multiprocessing child: on exit it runs these finalizers, then
        # joins its own children, so the pool must be ended here (measured: TERM took the 20 s
        # kill timeout with the pool left idle, 0.2 s without children)
        Finalize(None, children.stop, exitpriority=10)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return app
