"""Answer a courier's question: the k nearest usable stations, how far, and whether open."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from geo.atlas import Atlas
from geo.hours import is_open, next_change
from geo.nearest import StationFilter, geodesic
from geo.query import NearestQuery

WALK_KMH = 4.5
EBIKE_KMH = 15.0
FAR_M = 20_000.0  # beyond this a station is no use to a courier: say so rather than list it


def station_status(hours: str, at: datetime) -> dict:
    """Open or closed at `at`, and when that changes (None for never, as with 24/7)."""
    open_now = is_open(hours, at)
    change = next_change(hours, at)
    stamp = change.isoformat(timespec="minutes") if change else None
    return {"open": open_now, "closes_at": stamp if open_now else None,
            "opens_at": None if open_now else stamp}


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


def far_note(distances_m: np.ndarray, far_m: float = FAR_M) -> dict | None:
    """When answers exist but none within `far_m`: a note (code, km, text) instead of them.

    A point in New York would otherwise be answered with a Shanghai station 11,900 km away.
    """
    d = np.asarray(distances_m, dtype=float)
    if d.size == 0 or (d <= far_m).any():
        return None
    km = round(float(d.min()) / 1000, 1)
    return {"code": "far", "km": km,
            "text": f"no matching station within {far_m / 1000:.0f} km: the nearest is "
                    f"{km:,.1f} km away (outside the area this dataset covers?)"}


def within_reach(rows: pd.DataFrame, far_m: float = FAR_M) -> tuple[pd.DataFrame, dict | None]:
    """Drop answers beyond `far_m`, with the note when that leaves none."""
    return (rows[rows["distance_m"] <= far_m].reset_index(drop=True),
            far_note(rows["distance_m"].to_numpy(float), far_m))


def answer_top(q: NearestQuery, origin: tuple[float, float], sample: bool,
               note: dict | None = None) -> dict:
    """The top-level members of a nearest-station answer (API, hot path and CLI alike):
    how distances were measured, the origin in the output datum, when, and any note."""
    top = {"distance_kind": "straight" if q.mode == "straight" else "network",
           "mode": q.mode, "sample": sample,
           "origin": [round(origin[0], 7), round(origin[1], 7)],
           "at": q.at.isoformat(timespec="minutes")}
    if note:
        top |= {"note": note["text"], "note_code": note["code"],
                **({"note_km": note["km"]} if "km" in note else {})}
    return top


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
