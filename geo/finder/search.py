"""Answer a courier's question: the k nearest usable stations, how far, and whether open."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.atlas import Atlas
from geo.coords import geodesic
from geo.finder.answer import EBIKE_KMH, FAR_M, WALK_KMH, far_note, station_status
from geo.index.nearest import StationFilter
from geo.questions import NearestQuery


def _straight(atlas: Atlas, q: NearestQuery) -> tuple[np.ndarray, np.ndarray, list | None]:
    """Station rows and geodesic metres, nearest first."""
    idx, dist, _ = atlas.index.query(q.lon, q.lat, q.k, q.flt)
    keep = idx[0] >= 0
    return idx[0][keep], dist[0][keep], None


def _network(atlas: Atlas, q: NearestQuery) -> tuple[np.ndarray, np.ndarray, list | None]:
    """Station rows, street metres and route lines from one single-source Dijkstra."""
    net = atlas.network(q.mode)
    usable = np.flatnonzero(atlas.index.usable(q.flt))
    lon, lat = atlas.index.lon[usable], atlas.index.lat[usable]
    found = net.nearest_from(q.lon, q.lat, lon, lat, q.k)
    routes = [net.route(found, i, (q.lon, q.lat), (lon[s], lat[s]))
              for i, s in enumerate(found.index)]
    return usable[found.index], found.distance_m, routes


def find_nearest(atlas: Atlas, q: NearestQuery) -> pd.DataFrame:
    """Station rows sorted by distance with distance_m, bearing_deg, travel minutes and status.

    Straight line by default; with q.mode walk/bike, along the street network, each row
    carrying its route as a LineString (`route`).
    """
    idx, dist, routes = (_straight if q.mode == "straight" else _network)(atlas, q)
    rows = atlas.stations.iloc[idx].copy()
    rows["distance_m"] = np.round(dist, 1)
    _, bearing = geodesic(np.full(len(rows), q.lon), np.full(len(rows), q.lat),
                          rows["lon"].to_numpy(), rows["lat"].to_numpy())
    rows["bearing_deg"] = np.round(bearing, 1)
    if routes is not None:
        rows["route"] = routes
    rows["walk_min"] = np.round(rows["distance_m"] / (WALK_KMH * 1000 / 60), 1)
    rows["ebike_min"] = np.round(rows["distance_m"] / (EBIKE_KMH * 1000 / 60), 1)
    status = [station_status(h, q.at) for h in rows["opening_hours"]]
    rows["open"] = np.array([s["open"] for s in status], dtype=bool)
    for key in ("closes_at", "opens_at"):
        rows[key] = pd.Series([s[key] for s in status], index=rows.index, dtype=object)
    return rows.reset_index(drop=True)


def within_reach(rows: pd.DataFrame, far_m: float = FAR_M) -> tuple[pd.DataFrame, dict | None]:
    """Drop answers beyond `far_m`, with the note when that leaves none."""
    return (rows[rows["distance_m"] <= far_m].reset_index(drop=True),
            far_note(rows["distance_m"].to_numpy(float), far_m))


def unreachable(atlas: Atlas, q: NearestQuery) -> dict | None:
    """A note when a street-network question starts too far from every street to be answered."""
    if q.mode == "straight":
        return None
    net = atlas.network(q.mode)
    if net.snap(q.lon, q.lat)[0][0] >= 0:
        return None
    return {"code": "unreachable",
            "text": f"unreachable from the street network: the point is more than "
                    f"{net.max_snap_m:.0f} m from any {q.mode} street in the loaded graph"}


def select_stations(atlas: Atlas, flt: StationFilter, districts: set[str] | None = None,
                    bbox: tuple[float, float, float, float] | None = None) -> pd.DataFrame:
    """Stations passing the filter, within some district codes and a lon/lat box."""
    ok = atlas.index.usable(flt)
    s = atlas.stations
    if districts is not None:
        ok &= s["district_code"].isin(districts).to_numpy()
    if bbox:
        w, so, e, n = bbox
        lon, lat = s["lon"].to_numpy(), s["lat"].to_numpy()
        ok &= (lon >= w) & (lon <= e) & (lat >= so) & (lat <= n)
    return s[ok]
