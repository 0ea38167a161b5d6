"""Configuration from environment variables, with defaults that work out of the box."""

from __future__ import annotations

import os

TILE_CHOICES = ("osm", "amap", "none")


def from_env() -> dict:
    """Read STATIONS_* variables; anything unset falls back to the embedded dataset."""
    tiles = os.environ.get("STATIONS_TILES", "osm").strip().lower()
    if tiles not in TILE_CHOICES:
        raise ValueError(f"STATIONS_TILES must be one of {', '.join(TILE_CHOICES)}, got {tiles!r}")
    return {
        "STATIONS_DATA": os.environ.get("STATIONS_DATA") or None,
        "STATIONS_TILES": tiles,
    }
