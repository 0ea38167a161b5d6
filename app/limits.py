"""Rate limits per client address on the heavy routes (Flask-Limiter, in memory by default).

STATIONS_RATE_LIMIT (default "600 per minute") applies per address to coverage, gaps, the
hourly curve, cells, service areas, plans, scenarios, station load and list checks; the
nearest-station path and the pages are not limited. STATIONS_RATE_STORAGE may point at a
shared store (e.g. redis://host:6379) so that every worker and server counts together; with
the in-memory default each process answering heavy routes (a worker, or under gunicorn its
heavy-route child) counts alone. Behind a proxy, run the app with Werkzeug's
ProxyFix so the client address is the real one. Over the limit: 429 JSON with Retry-After.

Couriers' check-ins and reports have their own limits: STATIONS_WRITE_LIMIT per address
(default "60 per minute": riders behind one carrier address share it) and
STATIONS_DEVICE_LIMIT per device token (default "10 per minute; 100 per day").
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _heavy_limit() -> str:
    return current_app.config["STATIONS_RATE_LIMIT"]


def _write_limit() -> str:
    return current_app.config["STATIONS_WRITE_LIMIT"]


def _device_limit() -> str:
    return current_app.config["STATIONS_DEVICE_LIMIT"]


def device_key() -> str:
    """The device token in a write's JSON body (the address when there is none)."""
    body = request.get_json(silent=True)
    device = body.get("device") if isinstance(body, dict) else None
    return f"device:{device}" if isinstance(device, str) else get_remote_address()


def register(app: Flask, heavy_blueprints, writes=None) -> Limiter:
    """One limiter per app (tests build many apps), limiting the heavy blueprints, and the
    write routes of `writes` per address and per device."""
    app.config.setdefault("RATELIMIT_ENABLED", not app.config.get("TESTING", False))
    limiter = Limiter(get_remote_address, app=app,
                      storage_uri=app.config["STATIONS_RATE_STORAGE"])
    for bp in heavy_blueprints:  # one counter per address across every heavy route
        limiter.shared_limit(_heavy_limit, scope="heavy")(bp)
    names = {bp.name for bp in heavy_blueprints}
    if writes is not None:
        limiter.shared_limit(_write_limit, scope="writes", methods=["POST"])(writes)
        limiter.shared_limit(_device_limit, scope="device", key_func=device_key,
                             methods=["POST"])(writes)
        names.add(writes.name)

    @limiter.request_filter
    def _not_heavy() -> bool:  # the courier's path skips the limiter's bookkeeping
        return request.blueprint not in names

    app.extensions["rate_limiter"] = limiter
    return limiter


def retry_after_s() -> int:
    """Seconds until the current address's heavy window resets (for a 429's Retry-After)."""
    import time

    limit = current_app.extensions["rate_limiter"].current_limit
    return max(1, int(limit.reset_at - time.time()) + 1) if limit else 60
