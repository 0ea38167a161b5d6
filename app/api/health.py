"""GET /healthz: for load balancers and the operator; 200 once the data is loaded."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify

from app.state import current_atlas

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Dataset version and date, station counts by type, and how long this app has run."""
    atlas = current_atlas()
    # counted once per loaded dataset: a check polled every second spent half its time (and
    # a worker's 2,500 answers a second, not 6,000) counting them again
    seen = current_app.extensions.get("healthz_counts")
    if seen is None or seen[0] is not atlas:
        seen = (atlas, {str(k): int(v) for k, v in atlas.stations["type"].value_counts().items()})
        current_app.extensions["healthz_counts"] = seen
    counts = seen[1]
    resp = jsonify({"status": "ok", "version": atlas.version, "data_date": atlas.data_date,
                    "sample": atlas.is_sample, "stations": counts,
                    "uptime_s": round(time.time() - current_app.extensions["started"], 1)})
    resp.headers["Cache-Control"] = "no-store"
    return resp

