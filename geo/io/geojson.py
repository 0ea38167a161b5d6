"""Station tables as GeoJSON: the one serialisation the CLI, the API and the pages share."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely

from geo.coords import from_wgs84, shift_geometries

STATION_PROPERTIES = ("id", "name", "type", "district", "district_code", "address", "host",
                      "opening_hours", "amenities", "phone", "capacity", "source")
RESULT_PROPERTIES = ("distance_m", "bearing_deg", "walk_min", "ebike_min", "open", "closes_at",
                     "opens_at")


def plain(value: object) -> object:
    """JSON-safe values: numpy and pandas scalars to Python, NaN/NA to null, arrays to lists;
    lists and dicts (amenities, nav links, routes) pass through."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "item") and not isinstance(value, list | tuple):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _line(geom: shapely.LineString | None, out_crs: str) -> dict | None:
    """A route as a GeoJSON LineString in the output datum, to ~0.1 m."""
    if geom is None:
        return None
    coords = np.asarray(shift_geometries(np.array([geom]), out_crs)[0].coords)
    return {"type": "LineString", "coordinates": np.round(coords, 6).tolist()}


def feature_collection(rows: pd.DataFrame, fields: tuple[str, ...] | None = None,
                       out_crs: str = "wgs84", **top: object) -> dict:
    """A FeatureCollection of station points; extra keyword arguments become top-level members.

    `fields` limits the properties (small map layers); `out_crs` shifts coordinates for display
    on GCJ-02 or BD-09 base maps (GeoJSON proper is WGS-84, the default).
    """
    wanted = (*(fields or STATION_PROPERTIES), *RESULT_PROPERTIES, "nav", "route")
    cols = [c for c in wanted if c in rows]
    if "route" in rows:
        rows = rows.assign(route=[_line(g, out_crs) for g in rows["route"]])
    lon, lat = from_wgs84(rows["lon"].to_numpy(float), rows["lat"].to_numpy(float), out_crs)
    lon, lat = np.round(np.atleast_1d(lon), 6).tolist(), np.round(np.atleast_1d(lat), 6).tolist()
    feats = [{"type": "Feature", "id": rec["id"],
              "geometry": {"type": "Point", "coordinates": [x, y]},
              "properties": {c: plain(rec[c]) for c in cols}}
             for rec, x, y in zip(rows[list(dict.fromkeys([*cols, "id"]))].to_dict("records"),
                                  lon, lat, strict=True)]
    if out_crs != "wgs84":
        top = {**top, "coordinates_datum": out_crs}
    return {"type": "FeatureCollection", **top, "features": feats}
