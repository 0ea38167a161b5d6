"""The courier's hot path: a straight-line nearest-station answer from arrays prepared once.

Per request there is one KD-tree query, one datum conversion of the origin, string formatting
for k results, and dicts: no pandas, no per-row conversions. The answer is the same as
`find_nearest` + `feature_collection` (tested feature by feature).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
import pandas as pd

from geo.coords import CRS_NAMES, from_wgs84, gcj02_to_bd09, wgs84_to_bd09, wgs84_to_gcj02
from geo.features import STATION_PROPERTIES, plain
from geo.finder import EBIKE_KMH, FAR_M, WALK_KMH, answer_top, far_note, station_status
from geo.navigation import (
    DEFAULT_REGION,
    amap_origin,
    amap_target,
    baidu_origin,
    baidu_target,
    links_encoded,
    origin_label,
)
from geo.nearest import NearestIndex
from geo.query import NearestQuery


@dataclass
class StationArrays:
    """Everything an answer needs, per station, computed once at start-up."""

    props: list[dict]  # the static properties, in STATION_PROPERTIES order
    hours: list[str]
    amap_to: list[str]  # each station's URL-encoded Amap target (GCJ-02)
    baidu_to: list[str]  # and Baidu target (BD-09)
    display: dict[str, list]  # crs -> per station [x, y] rounded output coordinates
    region: str = DEFAULT_REGION  # the map apps' region (the dataset's city)

    @classmethod
    def from_stations(cls, stations: pd.DataFrame, region: str = DEFAULT_REGION
                      ) -> StationArrays:
        cols = [c for c in STATION_PROPERTIES if c in stations]
        props = [{c: plain(v) for c, v in zip(cols, rec, strict=True)}
                 for rec in stations[cols].itertuples(index=False, name=None)]
        lon, lat = stations["lon"].to_numpy(float), stations["lat"].to_numpy(float)
        display = {}
        for crs in CRS_NAMES:
            x, y = from_wgs84(lon, lat, crs)
            display[crs] = np.round(np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]),
                                    6).tolist()
        names = stations["name"].astype(str).tolist()
        glon, glat = (np.atleast_1d(v).tolist() for v in wgs84_to_gcj02(lon, lat))
        blon, blat = (np.atleast_1d(v).tolist() for v in wgs84_to_bd09(lon, lat))
        return cls(props, stations["opening_hours"].astype(str).tolist(),
                   [amap_target(x, y, n) for x, y, n in zip(glon, glat, names, strict=True)],
                   [baidu_target(x, y, n) for x, y, n in zip(blon, blat, names, strict=True)],
                   display, region)


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
