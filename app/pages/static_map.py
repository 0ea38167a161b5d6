"""A small static map for the station embed: an SVG, no script library, a few kilobytes.

A partner's page about one station needs the place, not a slippy map: Leaflet alone is more
than the station embed's whole 40 KB budget. The SVG shows district lines and nearby stations
(filled when open now, hollow when closed) around the station, over map tiles when the site
has them, positioned in Web Mercator at a fixed zoom.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from app.mapview import TILES

ZOOM = 16
WIDTH, HEIGHT = 320, 200
TILE = 256


def _pixels(lon, lat, zoom: int = ZOOM) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator world pixels at `zoom` (what map tiles are cut in)."""
    lon, lat = np.asarray(lon, float), np.clip(np.asarray(lat, float), -85.0511, 85.0511)
    scale = TILE * 2 ** zoom
    x = (lon + 180.0) / 360.0 * scale
    y = (1 - np.log(np.tan(np.radians(lat)) + 1 / np.cos(np.radians(lat))) / math.pi) / 2 * scale
    return x, y


def _lonlat_box(cx: float, cy: float, zoom: int = ZOOM) -> tuple[float, float, float, float]:
    """The lon/lat box the picture covers (for clipping lines before they are drawn)."""
    scale = TILE * 2 ** zoom
    xs = np.array([cx - WIDTH / 2, cx + WIDTH / 2])
    ys = np.array([cy + HEIGHT / 2, cy - HEIGHT / 2])
    lon = xs / scale * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(math.pi * (1 - 2 * ys / scale))))
    return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])


def _tiles(tiles: str, cx: float, cy: float) -> list[dict]:
    """The tile images under the picture, with their offsets, when the site uses tiles."""
    if tiles not in TILES:
        return []
    url, _, subdomains = TILES[tiles]
    x0, y0 = cx - WIDTH / 2, cy - HEIGHT / 2
    out = []
    for tx in range(int(x0 // TILE), int((x0 + WIDTH) // TILE) + 1):
        for ty in range(int(y0 // TILE), int((y0 + HEIGHT) // TILE) + 1):
            sub = subdomains[(tx + ty) % len(subdomains)] if subdomains else ""
            href = url.replace("{s}", sub).replace("{z}", str(ZOOM)).replace(
                "{x}", str(tx)).replace("{y}", str(ty))
            out.append({"href": href, "x": round(tx * TILE - x0, 1),
                        "y": round(ty * TILE - y0, 1)})
    return out


def station_picture(lon: float, lat: float, districts, near: list[dict], tiles: str) -> dict:
    """What the template draws: tiles, district line paths, nearby dots, in picture pixels.

    `lon`/`lat`, district geometries and `near` points ({lon, lat, colour, open}) must all be
    in the display datum.
    """
    cx, cy = (float(v) for v in _pixels(lon, lat))
    box = _lonlat_box(cx, cy)
    lines = shapely.clip_by_rect(shapely.boundary(np.asarray(districts)), *box)
    paths = []
    for line in shapely.get_parts(lines[~shapely.is_empty(lines)]):
        coords = shapely.get_coordinates(line)
        if len(coords) < 2:
            continue
        px, py = _pixels(coords[:, 0], coords[:, 1])
        pts = " ".join(f"{x - cx + WIDTH / 2:.1f},{y - cy + HEIGHT / 2:.1f}"
                       for x, y in zip(px, py, strict=True))
        paths.append("M" + pts)  # further pairs after M are line-tos
    dots = []
    for p in near:
        px, py = (float(v) for v in _pixels(p["lon"], p["lat"]))
        x, y = px - cx + WIDTH / 2, py - cy + HEIGHT / 2
        if 0 <= x <= WIDTH and 0 <= y <= HEIGHT:
            dots.append({**p, "x": round(x, 1), "y": round(y, 1)})
    return {"width": WIDTH, "height": HEIGHT, "tiles": _tiles(tiles, cx, cy), "paths": paths,
            "dots": dots, "cx": WIDTH / 2, "cy": HEIGHT / 2}
