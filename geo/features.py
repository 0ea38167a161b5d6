"""Station tables as GeoJSON: the one serialisation the CLI, the API and the pages share."""

from __future__ import annotations

import math

import pandas as pd

STATION_PROPERTIES = ("id", "name", "type", "district", "district_code", "address", "host",
                      "opening_hours", "amenities", "phone", "capacity", "source")
RESULT_PROPERTIES = ("distance_m", "bearing_deg", "walk_min", "ebike_min", "open", "closes_at",
                     "opens_at")


def _plain(value: object) -> object:
    """JSON-safe scalars: numpy and pandas types to Python, NaN/NA to null."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, list | tuple):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def feature_collection(rows: pd.DataFrame, **top: object) -> dict:
    """A FeatureCollection of station points; extra keyword arguments become top-level members."""
    cols = [c for c in (*STATION_PROPERTIES, *RESULT_PROPERTIES) if c in rows]
    feats = [{"type": "Feature", "id": rec["id"],
              "geometry": {"type": "Point",
                           "coordinates": [round(rec["lon"], 6), round(rec["lat"], 6)]},
              "properties": {c: _plain(rec[c]) if c != "amenities" else list(rec[c])
                             for c in cols}}
             for rec in rows[[*cols, "lon", "lat"]].to_dict("records")]
    return {"type": "FeatureCollection", **top, "features": feats}
