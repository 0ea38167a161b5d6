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
STATIONS_DEVICE_LIMIT per device token (default "10 per minute; 100 per day"). They are
counted in fixed windows in this process (`WindowCounts`), or through the `limits` library
(Flask-Limiter's engine) on a shared store; not through Flask-Limiter, whose per-request
resolution cost more than the rest of a write.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests


def _heavy_limit() -> str:
    return current_app.config["STATIONS_RATE_LIMIT"]


COUNTED = "stations.write_counted"  # environ key: the write lane's count of this request


class WriteLimited(TooManyRequests):
    """A courier's write over its address's or device's limit (429 with Retry-After)."""

    def __init__(self, limit: RateLimitItem, retry_after: int) -> None:
        super().__init__(description=str(limit))
        self.retry_after = retry_after


@lru_cache(maxsize=32)
def _items(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


def device_key() -> str:
    """The device token in a write's JSON body (the address when there is none)."""
    return key_of_device(request.get_json(silent=True), get_remote_address())


def key_of_device(body: object, address: str) -> str:
    """What the device limit counts: the body's device token, else the address."""
    device = body.get("device") if isinstance(body, dict) else None
    return f"device:{device}" if isinstance(device, str) else f"addr:{address}"


class WindowCounts:
    """Fixed-window counts in this process, one dictionary per window, dropped whole when the
    window ends: O(1) a hit and no threads. (The `limits` library's memory storage starts a
    thread every 10 ms that walks every key it holds; with a day's window that is every
    courier of the day, and the walk cost more than the writes it guarded.)"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[int, tuple[float, dict[str, int]]] = {}

    def hit(self, item: RateLimitItem, key: str) -> int | None:
        """Count a hit; None within the limit, else the seconds until the window ends."""
        size = item.get_expiry()
        now = time.time()
        start = now - now % size
        with self._lock:
            began, counts = self._windows.get(size, (None, None))
            if began != start:
                counts = {}
                self._windows[size] = (start, counts)
            n = counts.get(key, 0)
            if n >= item.amount:
                return max(1, int(start + size - now) + 1)
            counts[key] = n + 1
        return None


class SharedCounts:
    """The same over a shared store (STATIONS_RATE_STORAGE=redis://…), via `limits`."""

    def __init__(self, uri: str) -> None:
        self._limiter = FixedWindowRateLimiter(storage_from_string(uri))

    def hit(self, item: RateLimitItem, key: str) -> int | None:
        if self._limiter.hit(item, "writes", key):
            return None
        reset = self._limiter.get_window_stats(item, "writes", key).reset_time
        return max(1, int(reset - time.time()) + 1)


def _limit_writes(app: Flask, blueprint: str) -> None:
    """Count each POST to `blueprint` per address and per device; refuse beyond either."""
    uri = app.config["STATIONS_RATE_STORAGE"]
    counter = WindowCounts() if uri.startswith("memory://") else SharedCounts(uri)

    config = app.config

    def check(address: str, device: str) -> None:
        """Count one write of this address and device key; raise WriteLimited beyond either
        limit. (The write lane, app/api/write_lane.py, counts through this too.)"""
        if not config.get("RATELIMIT_ENABLED", True):
            return
        for setting, key in (("STATIONS_WRITE_LIMIT", f"addr:{address}"),
                             ("STATIONS_DEVICE_LIMIT", device)):
            for item in _items(config[setting]):
                wait = counter.hit(item, f"{setting}:{item}:{key}")
                if wait is not None:
                    raise WriteLimited(item, wait)

    app.extensions["write_limits"] = check

    @app.before_request
    def _check() -> None:
        if request.blueprint == blueprint and request.method == "POST":
            counted = request.environ.pop(COUNTED, None)  # the write lane counted it
            if isinstance(counted, WriteLimited):
                raise counted
            if counted is None:
                check(get_remote_address(), device_key())


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
        _limit_writes(app, writes.name)

    @limiter.request_filter
    def _not_heavy() -> bool:  # the courier's path skips the limiter's bookkeeping
        return request.blueprint not in names

    app.extensions["rate_limiter"] = limiter
    return limiter


def retry_after_s() -> int:
    """Seconds until the current address's heavy window resets (for a 429's Retry-After)."""
    limit = current_app.extensions["rate_limiter"].current_limit
    return max(1, int(limit.reset_at - time.time()) + 1) if limit else 60
