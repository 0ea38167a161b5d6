"""Straight-line nearest stations: a KD-tree in Earth-centred metres, exact geodesic distances.

The tree holds stations as 3-D points on the WGS-84 ellipsoid (ECEF, metres), so it works the
same for Shanghai or all of China, where a single UTM zone would distort. The straight chord
through the Earth is never longer than the geodesic along its surface, which gives an exact
stopping rule: once the farthest chord examined is at least the k-th geodesic distance, no
unexamined station can be nearer. Reported distances are WGS-84 geodesics (pyproj.Geod), to
the millimetre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.coords import GEOD, geodesic
from geo.hours import open_mask
from geo.schema import STATION_TYPES, amenity_bits

_A = 6378137.0
_E2 = 6.69437999014e-3
K_DEFAULT = 5  # stations in a nearest answer when the question names no k
_BATCH_SUBTREE = 256  # from this many query points, a filtered query builds its own tree


@dataclass(frozen=True)
class StationFilter:
    """What makes a station usable: its type, amenities it must have, and being open at a time."""

    type: str | None = None
    amenities: tuple[str, ...] = ()
    open_at: datetime | None = None


def _ecef_xyz(lon, lat, m=np):
    """The ECEF formula over numpy arrays (m=np) or plain floats (m=math): one source."""
    lam, phi = m.radians(lon), m.radians(lat)
    n = _A / m.sqrt(1.0 - _E2 * m.sin(phi) ** 2)
    return (n * m.cos(phi) * m.cos(lam), n * m.cos(phi) * m.sin(lam),
            n * (1.0 - _E2) * m.sin(phi))


def ecef(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Earth-centred metres on the WGS-84 ellipsoid; chord length bounds geodesic length."""
    return np.column_stack(_ecef_xyz(np.asarray(lon, float), np.asarray(lat, float)))


def ecef_point(lon: float, lat: float) -> list[float]:
    """`ecef` for one point in plain floats: a tenth of the array call's cost, the
    same formula (to a micrometre: numpy's SIMD sin/cos may differ in the last place)."""
    return list(_ecef_xyz(float(lon), float(lat), math))


def chord_to_arc(chord: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Surface distance from a chord: c + c^3 / (24 R^2), R the Gaussian radius at `lat`;
    within a millimetre of the WGS-84 geodesic up to ~50 km, with no geodesic call."""
    s2 = np.sin(np.radians(np.asarray(lat, float))) ** 2
    radius = _A * np.sqrt(1.0 - _E2) / (1.0 - _E2 * s2)
    chord = np.asarray(chord, float)
    return chord + chord**3 / (24.0 * radius**2)


@dataclass
class _Tree:
    """A KD-tree over a subset of stations, with the station positions it holds."""

    tree: cKDTree
    ids: np.ndarray

    @classmethod
    def build(cls, xyz: np.ndarray, ids: np.ndarray) -> _Tree:
        """Build on the given station positions (balanced, compact: fast queries)."""
        return cls(cKDTree(xyz[ids]), ids)


class NearestIndex:
    """K nearest usable stations for one point or many, exact under any filter."""

    def __init__(self, stations: pd.DataFrame) -> None:
        self.lon = stations["lon"].to_numpy(float)
        self.lat = stations["lat"].to_numpy(float)
        self.types = stations["type"].to_numpy(str)
        self.bits = stations["amenity_bits"].to_numpy(np.int64)
        self.hours = stations["opening_hours"].to_numpy(object)
        self.xyz = ecef(self.lon, self.lat)
        everyone = np.arange(len(self.lon))
        self._trees = {None: _Tree.build(self.xyz, everyone)} if len(everyone) else {}
        for t in STATION_TYPES:
            ids = np.flatnonzero(self.types == t)
            if ids.size:
                self._trees[t] = _Tree.build(self.xyz, ids)

    def __len__(self) -> int:
        return len(self.lon)

    def usable(self, flt: StationFilter) -> np.ndarray:
        """Boolean mask of stations that pass the filter; vectorised over all stations."""
        ok = np.ones(len(self.lon), dtype=bool)
        if flt.type is not None:
            ok &= self.types == flt.type
        if flt.amenities:
            need = amenity_bits(flt.amenities)
            ok &= (self.bits & need) == need
        if flt.open_at is not None:
            ok &= self._open_at(flt.open_at)
        return ok

    def _open_at(self, at) -> np.ndarray:
        """Which stations are open at `at`: kept for the last few minutes asked about, since
        "open now" is the same question for every courier within a minute."""
        return _remember(self.__dict__.setdefault("_open_cache", {}), at, 8,
                         lambda: open_mask(self.hours, at))

    def query(self, lon, lat, k: int = K_DEFAULT, flt: StationFilter = StationFilter()
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indices (-1 if none), geodesic metres (inf) and bearings of the k nearest, per point.

        Shapes are (n, k) for n query points in WGS-84 degrees.
        """
        return self.query_mask(lon, lat, k, flt.type, self._mask(flt))

    def query_mask(self, lon, lat, k: int, type_: str | None, mask: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Like `query`, with usability given as a mask (reused across many questions)."""
        qlon = np.atleast_1d(np.asarray(lon, float))
        qlat = np.atleast_1d(np.asarray(lat, float))
        if mask is not None and len(qlon) >= _BATCH_SUBTREE:
            base, mask = self._tree(type_, mask), None
        else:
            base = self._tree(type_, None)
        if base is None:
            return _empty(len(qlon), k)
        if len(qlon) == 1:
            return _rows_to_arrays(self._knn_one(base, mask, float(qlon[0]), float(qlat[0]), k), k)
        return self._exact_knn(base, mask, qlon, qlat, k)

    def nearest_one(self, lon: float, lat: float, k: int = K_DEFAULT,
                    flt: StationFilter = StationFilter()) -> list[tuple[int, float, float]]:
        """The k nearest usable stations to one point as (index, geodesic metres, bearing)
        rows, nearest first: `query` for a courier's question, in plain floats."""
        base = self._tree(flt.type, None)
        return [] if base is None else self._knn_one(base, self._mask(flt), float(lon),
                                                     float(lat), k)

    def _mask(self, flt: StationFilter) -> np.ndarray | None:
        """The filter's usable stations beyond its type (the type picks the tree), None when
        only the type filters; kept per filter (read-only), since couriers ask the same few."""
        if not flt.amenities and flt.open_at is None:
            return None
        return _remember(self.__dict__.setdefault("_mask_cache", {}), flt, 64,
                         lambda: _frozen(self.usable(flt)))

    def _tree(self, type_: str | None, mask: np.ndarray | None) -> _Tree | None:
        """The shared tree of a type, or one built on its masked stations (None if empty)."""
        base = self._trees.get(type_)
        if base is None or mask is None:
            return base
        ids = base.ids[mask[base.ids]]
        return _Tree.build(self.xyz, ids) if ids.size else None

    def nearest_distance(self, lon, lat, type_: str | None, mask: np.ndarray | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
        """Distance (m) to and index of the single nearest usable station, for every point.

        The bulk path for coverage: chord through the Earth plus the arc correction
        c^3 / (24 R^2), with R the Gaussian radius at the point, agrees with the WGS-84
        geodesic to well under a millimetre up to ~50 km, without a geodesic call per point.
        """
        qlon = np.atleast_1d(np.asarray(lon, float))
        qlat = np.atleast_1d(np.asarray(lat, float))
        base = self._tree(type_, mask)
        if base is None:
            return np.full(len(qlon), np.inf), np.full(len(qlon), -1, np.int64)
        chord, j = base.tree.query(ecef(qlon, qlat), k=1)
        found = j < base.tree.n
        dist = np.where(found, chord_to_arc(np.where(found, chord, 0.0), qlat), np.inf)
        return dist, np.where(found, base.ids[np.minimum(j, base.tree.n - 1)], -1)

    def _exact_knn(self, t: _Tree, mask: np.ndarray | None, qlon: np.ndarray,
                   qlat: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Widen the candidate set per point until the chord bound proves the k-th is final."""
        n_pts, m = t.tree.n, len(qlon)
        idx, dist, az = _empty(m, k)
        share = 1.0 if mask is None else max(mask[t.ids].mean(), 1.0 / n_pts)
        kq = int(min(n_pts, np.ceil(k / share * 1.5) + 2))
        qxyz = ecef(qlon, qlat)
        pending = np.arange(m)
        while pending.size:
            chord, j = t.tree.query(qxyz[pending], k=kq)
            chord, j = chord.reshape(len(pending), -1), j.reshape(len(pending), -1)
            found = j < n_pts
            cand = t.ids[np.where(found, j, 0)]
            ok = found if mask is None else found & mask[cand]
            s, b = self._lazy_geodesics(pending, cand, ok, chord, qlon, qlat, k)
            order = np.argsort(s, axis=1, kind="stable")[:, :k]
            s_top = np.take_along_axis(s, order, axis=1)
            kth = s_top[:, -1] if s_top.shape[1] == k else np.full(len(pending), np.inf)
            done = (kq >= n_pts) | (chord[:, -1] >= kth)
            width = order.shape[1]
            take = pending[done]
            idx[take, :width] = np.where(np.isfinite(s_top[done]),
                                         np.take_along_axis(cand, order, 1)[done], -1)
            dist[take, :width] = s_top[done]
            az[take, :width] = np.take_along_axis(b, order, 1)[done]
            pending = pending[~done]
            kq = min(n_pts, kq * 4)
        return idx, dist, az

    def _knn_one(self, t: _Tree, mask: np.ndarray | None, lon: float, lat: float, k: int
                 ) -> list[tuple[int, float, float]]:
        """One point (a courier's question): `_exact_knn`'s stopping rule in one dimension,
        with a geodesic for every usable candidate instead of per-row bookkeeping. The
        candidates are a few dozen, so plain floats beat arrays here: pyproj's scalar call
        is a thirtieth of its array call's overhead, with the same bits."""
        n_pts = t.tree.n
        share = 1.0 if mask is None else max(np.count_nonzero(mask[t.ids]) / n_pts, 1.0 / n_pts)
        kq = int(min(n_pts, np.ceil(k / share * 1.5) + 2))
        xyz = ecef_point(lon, lat)
        while True:
            chord, j = t.tree.query(xyz, k=kq)
            cand = t.ids[np.atleast_1d(j)]
            if mask is not None:
                cand = cand[mask[cand]]
            rows = sorted(((i, *_geodesic_one(lon, lat, x, y)) for i, x, y in zip(
                cand.tolist(), self.lon[cand].tolist(), self.lat[cand].tolist(), strict=True)),
                key=itemgetter(1))[:k]  # sorted() is stable, as the array path's argsort
            if kq >= n_pts or (len(rows) == k and np.atleast_1d(chord)[-1] >= rows[-1][1]):
                return rows
            kq = min(n_pts, kq * 4)

    def _geodesics_at(self, sel, pending, cand, qlon, qlat, s, b) -> None:
        """Fill geodesic distance and bearing for the selected candidate slots."""
        rows = np.broadcast_to(pending[:, None], cand.shape)[sel]
        s[sel], b[sel] = geodesic(qlon[rows], qlat[rows], self.lon[cand[sel]],
                                  self.lat[cand[sel]])

    def _lazy_geodesics(self, pending, cand, ok, chord, qlon, qlat, k):
        """Geodesics only where they can matter: the first k usable candidates by chord, then
        any other whose chord is below the k-th geodesic (chord <= geodesic, so no other can)."""
        s = np.full(cand.shape, np.inf)
        b = np.full(cand.shape, np.nan)
        first = ok & (np.cumsum(ok, axis=1) <= k)
        self._geodesics_at(first, pending, cand, qlon, qlat, s, b)
        enough = first.sum(axis=1) >= k
        kth = np.where(enough, np.where(first, s, -np.inf).max(axis=1), np.inf)
        extra = ok & ~first & (chord < kth[:, None])
        if extra.any():
            self._geodesics_at(extra, pending, cand, qlon, qlat, s, b)
        return s, b


def _remember(cache: dict, key, size: int, make):
    """cache[key], made when absent; the oldest entry goes beyond `size`. Threads may make
    the same entry twice, never break the dict."""
    value = cache.get(key)
    if value is None:
        value = make()
        while len(cache) >= size:
            try:
                cache.pop(next(iter(cache)), None)
            except (StopIteration, RuntimeError):  # emptied or changed by another thread
                break
        cache[key] = value
    return value


def _frozen(a: np.ndarray) -> np.ndarray:
    """A shared answer no caller can change in place."""
    a.flags.writeable = False
    return a


def _geodesic_one(lon1: float, lat1: float, lon2: float, lat2: float) -> tuple[float, float]:
    """`geodesic` for one pair of points in plain floats (the same geodesic, the same bits)."""
    az, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    return dist, az % 360.0


def _rows_to_arrays(rows: list[tuple[int, float, float]], k: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`nearest_one`'s rows as `query`'s (1, k) arrays."""
    idx, dist, az = _empty(1, k)
    for n, (i, d, b) in enumerate(rows):
        idx[0, n], dist[0, n], az[0, n] = i, d, b
    return idx, dist, az


def _empty(m: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Result arrays meaning 'no station': -1 index, infinite distance, no bearing."""
    return np.full((m, k), -1, np.int64), np.full((m, k), np.inf), np.full((m, k), np.nan)
