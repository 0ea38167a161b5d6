"""The courier's hot path: a straight-line nearest-station answer from arrays prepared once.

Per request there is one KD-tree query, one datum conversion of the origin, string formatting
for k results, and dicts: no pandas, no per-row conversions. The answer is the same as
`find_nearest` + `feature_collection` (tested feature by feature).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from geo.coords import gcj02_to_bd09, wgs84_to_gcj02
from geo.finder.answer import EBIKE_KMH, FAR_M, WALK_KMH, answer_top, far_note, station_status
from geo.index.nearest import NearestIndex
from geo.index.station_arrays import StationArrays
from geo.navigation import (
    amap_origin,
    baidu_origin,
    links_encoded,
    origin_label,
)
from geo.questions import NearestQuery


@lru_cache(maxsize=8192)
def _status(hours: str, at: datetime) -> dict:
    """Open/closed and the next change: a handful of expressions, one minute at a time."""
    return station_status(hours, at)


def _round1(x: float) -> float:
    """np.round(x, 1) for one float, bit for bit (x * 10, round half to even, / 10)."""
    return round(x * 10.0) / 10.0


_WALK_M_MIN = WALK_KMH * 1000 / 60
_EBIKE_M_MIN = EBIKE_KMH * 1000 / 60


def answer(arrays: StationArrays, index: NearestIndex, q: NearestQuery, out_crs: str,
           lang: str, sample: bool) -> dict:
    """The /api/nearest FeatureCollection for a straight-line question."""
    found = [(i, _round1(d), b) for i, d, b in index.nearest_one(q.lon, q.lat, q.k, q.flt)]
    note = far_note([d for _, d, _ in found], FAR_M)
    found = [] if note else [row for row in found if row[1] <= FAR_M]
    label = origin_label(lang)
    glon, glat = (float(v) for v in wgs84_to_gcj02(q.lon, q.lat))
    amap_from = amap_origin((glon, glat), label)
    baidu_from = baidu_origin(tuple(float(v) for v in gcj02_to_bd09(glon, glat)), label)
    display = arrays.display[out_crs]
    feats = []
    for i, dist, bearing in found:
        props = {**arrays.props[i], "distance_m": dist, "bearing_deg": _round1(bearing),
                 "walk_min": _round1(dist / _WALK_M_MIN),
                 "ebike_min": _round1(dist / _EBIKE_M_MIN), **_status(arrays.hours[i], q.at),
                 "nav": links_encoded(arrays.amap_to[i], arrays.baidu_to[i], amap_from,
                                      baidu_from, arrays.region)}
        feats.append({"type": "Feature", "id": props["id"],
                      "geometry": {"type": "Point", "coordinates": list(display[i])},
                      "properties": props})
    olon, olat = {"wgs84": (q.lon, q.lat), "gcj02": (glon, glat)}.get(out_crs) or (
        float(v) for v in gcj02_to_bd09(glon, glat))
    top = {"type": "FeatureCollection", **answer_top(q, (olon, olat), sample, note)}
    if out_crs != "wgs84":
        top["coordinates_datum"] = out_crs
    return {**top, "features": feats}
