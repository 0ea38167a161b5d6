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
    resp = jsonify({"status": "ok", "version": atlas.version, "data_date": atlas.data_date,
                    "sample": atlas.is_sample, "stations": atlas.type_counts,
                    "uptime_s": round(time.time() - current_app.extensions["started"], 1)})
    resp.headers["Cache-Control"] = "no-store"
    return resp
