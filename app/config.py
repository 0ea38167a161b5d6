"""Configuration from environment variables, with defaults that work out of the box."""

from __future__ import annotations

import os
import re

from geo.analysis.siting import EXACT_TIME_LIMIT_S
from geo.errors import SettingError

TILE_CHOICES = ("osm", "amap", "none")


_SOURCE = re.compile(r"^(\*|'self'|'none'|(https?://)?(\*\.)?[A-Za-z0-9.-]+(:\d+|:\*)?"
                     r"|https?:)$")


def frame_ancestors(value: str) -> str:
    """Validate a CSP frame-ancestors source list (space-separated), e.g. '*' or origins."""
    tokens = value.split()
    if not tokens or any(not _SOURCE.match(tok) for tok in tokens):
        raise SettingError(f"STATIONS_FRAME_ANCESTORS must be '*' or space-separated origins "
                           f"like https://union.example.org, got {value!r}",
                           param="STATIONS_FRAME_ANCESTORS")
    return " ".join(tokens)


def whole(name: str, default: int, least: int = 1) -> int:
    """A count setting (workers, threads, places): ASCII digits, at least `least`, so that a
    typo stops the start with the variable's name instead of a traceback."""
    text = os.environ.get(name) or str(default)
    if not (text.isascii() and text.isdigit()) or int(text) < least:
        raise SettingError(f"{name} must be a whole number, {least} or more, got {text!r}",
                           param=name)
    return int(text)


# Threads per worker: 6, not 8. Under granian (2 workers, 100 connections on /api/nearest)
# 8 threads had a p99 of 60 ms and 6 had 43-45 ms at the same rate (more threads only wait
# longer for the GIL); couriers' writes were the same with 6 (bench/load.py, bench/writes.py).
THREADS = 6


def server() -> dict:
    """gunicorn's settings from the environment (gunicorn.conf.py reads them; `stations
    serve` checks them first)."""
    return {"bind": os.environ.get("STATIONS_BIND", "127.0.0.1:5000"),
            "workers": whole("STATIONS_WORKERS", os.cpu_count() or 1),
            "threads": whole("STATIONS_THREADS", THREADS)}


def heavy_requests() -> int:
    """Heavy-route requests a worker takes at once: STATIONS_HEAVY_REQUESTS (default 4), but
    never more than its threads (STATIONS_THREADS, default 6) less two, which stay free for
    the courier's path (with 4 threads and 6 places, heavy requests held every thread)."""
    threads = whole("STATIONS_THREADS", THREADS)
    return max(1, min(whole("STATIONS_HEAVY_REQUESTS", 4), threads - 2))


def seconds(name: str, default: float) -> float:
    """A duration setting: a number of seconds, zero or more (a typo must not start a server
    that waits forever or refuses everything)."""
    text = os.environ.get(name) or str(default)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise SettingError(f"{name} must be a number of seconds (0 or more), got {text!r}",
                           param=name)
    return value


def from_env() -> dict:
    """Read STATIONS_* variables; anything unset falls back to the embedded dataset."""
    tiles = os.environ.get("STATIONS_TILES", "osm").strip().lower()
    if tiles not in TILE_CHOICES:
        raise SettingError(f"STATIONS_TILES must be one of {', '.join(TILE_CHOICES)}, "
                           f"got {tiles!r}", param="STATIONS_TILES")
    return {
        "STATIONS_DATA": os.environ.get("STATIONS_DATA") or None,
        "STATIONS_NATIONAL": os.environ.get("STATIONS_NATIONAL") or None,
        "STATIONS_DATA_CRS": os.environ.get("STATIONS_DATA_CRS") or "wgs84",
        "STATIONS_TILES": tiles,
        "STATIONS_FRAME_ANCESTORS": frame_ancestors(
            os.environ.get("STATIONS_FRAME_ANCESTORS", "*")),
        "STATIONS_GRAPH_WALK": os.environ.get("STATIONS_GRAPH_WALK") or None,
        "STATIONS_GRAPH_BIKE": os.environ.get("STATIONS_GRAPH_BIKE") or None,
        "STATIONS_HSTS": os.environ.get("STATIONS_HSTS", "").lower() in ("1", "true", "yes"),
        "STATIONS_RATE_LIMIT": os.environ.get("STATIONS_RATE_LIMIT") or "600 per minute",
        "STATIONS_RATE_STORAGE": os.environ.get("STATIONS_RATE_STORAGE") or "memory://",
        "STATIONS_HEAVY_REQUESTS": heavy_requests(),
        "STATIONS_HEAVY_MAX": whole("STATIONS_HEAVY_MAX", 2),
        "STATIONS_HEAVY_PROCESSES": whole("STATIONS_HEAVY_PROCESSES", 0, least=0),
        "STATIONS_HEAVY_QUEUE_S": seconds("STATIONS_HEAVY_QUEUE_S", 5.0),
        "STATIONS_DB_URL": os.environ.get("STATIONS_DB_URL") or None,
        "STATIONS_DB_UPGRADE": os.environ.get("STATIONS_DB_UPGRADE", "1").lower()
        not in ("0", "false", "no"),
        "STATIONS_WRITE_LIMIT": os.environ.get("STATIONS_WRITE_LIMIT") or "60 per minute",
        "STATIONS_DEVICE_LIMIT": os.environ.get("STATIONS_DEVICE_LIMIT")
        or "10 per minute; 100 per day",
        "STATIONS_ADMIN_PASSWORD": os.environ.get("STATIONS_ADMIN_PASSWORD") or None,
        "STATIONS_ADMIN_TOKEN": os.environ.get("STATIONS_ADMIN_TOKEN") or None,
        "STATIONS_MIP_SECONDS": float(os.environ.get("STATIONS_MIP_SECONDS") or EXACT_TIME_LIMIT_S),
    }
