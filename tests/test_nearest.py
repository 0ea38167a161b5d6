"""The KD-tree against brute force: every station scanned for every query point."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod, Transformer

from geo.hours import open_mask
from geo.index.nearest import NearestIndex, StationFilter
from geo.schema import amenity_bits

GEOD = Geod(ellps="WGS84")
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)
R_MEAN = 6_371_008.8


def haversine(lon1, lat1, lon2, lat2):
    """Great-circle metres on the mean sphere, written out so it shares nothing with the code."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlon = np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * R_MEAN * np.arcsin(np.sqrt(a))


def brute(stations: pd.DataFrame, usable: np.ndarray, lon: float, lat: float, k: int):
    """Indices and geodesic distances of the k nearest usable stations, by scanning all."""
    ids = np.flatnonzero(usable)
    _, _, d = GEOD.inv(np.full(ids.size, lon), np.full(ids.size, lat),
                       stations["lon"].values[ids], stations["lat"].values[ids])
    order = np.argsort(d, kind="stable")[:k]
    return ids[order], d[order]


@pytest.fixture(scope="module")
def points() -> tuple[np.ndarray, np.ndarray]:
    """1,000 random query points over Shanghai's extent."""
    rng = np.random.default_rng(7)
    return rng.uniform(120.9, 121.95, 1000), rng.uniform(30.7, 31.85, 1000)


FILTERS = [
    StationFilter(),
    StationFilter(type="relay"),
    StationFilter(type="health", amenities=("water",)),
    StationFilter(amenities=("toilet", "wifi")),
    StationFilter(type="relay", open_at=datetime(2026, 11, 24, 21, 0)),
    StationFilter(type="relay", amenities=("microwave",), open_at=datetime(2026, 11, 28, 10)),
]


def usable_brute(stations: pd.DataFrame, flt: StationFilter) -> np.ndarray:
    """The filter applied row by row, independently of NearestIndex.usable."""
    ok = np.ones(len(stations), bool)
    if flt.type:
        ok &= stations["type"].to_numpy() == flt.type
    if flt.amenities:
        ok &= stations["amenities"].map(lambda a: set(flt.amenities) <= set(a)).to_numpy()
    if flt.open_at:
        ok &= open_mask(stations["opening_hours"].to_numpy(), flt.open_at)
    return ok


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: f"{f.type}-{f.amenities}-{f.open_at}")
def test_kdtree_equals_brute_force_for_1000_points(atlas, points, flt):
    k = 5
    lon, lat = points
    idx, dist, _ = atlas.index.query(lon, lat, k, flt)  # batch path: its own filtered tree
    usable = usable_brute(atlas.stations, flt)
    for i in range(len(lon)):
        want_idx, want_d = brute(atlas.stations, usable, lon[i], lat[i], k)
        np.testing.assert_allclose(dist[i, :len(want_d)], want_d, rtol=0, atol=1e-6)
        assert set(idx[i, :len(want_idx)]) == set(want_idx)


@pytest.mark.parametrize("flt", FILTERS[2:], ids=lambda f: f"{f.type}-{f.amenities}")
def test_single_queries_widen_until_exact(atlas, points, flt):
    """Few points with a filter take the widening path on the shared tree: same answers."""
    lon, lat = points
    single = np.vstack([atlas.index.query(lon[i], lat[i], 3, flt)[1] for i in range(100)])
    batch = atlas.index.query(lon[:300], lat[:300], 3, flt)[1][:100]
    np.testing.assert_allclose(single, batch, atol=1e-6)


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: f"{f.type}-{f.amenities}-{f.open_at}")
def test_one_point_path_equals_brute_force_and_the_row_path(atlas, points, flt):
    """A single point (the courier's question) has its own path: brute force gives the same
    stations and distances, and the many-point path the same arrays, bearings included."""
    lon, lat = points
    usable = usable_brute(atlas.stations, flt)
    for i, k in zip(range(150), [1, 5, 12] * 50, strict=False):
        one = atlas.index.query(lon[i], lat[i], k, flt)
        two = atlas.index.query(lon[i:i + 2], lat[i:i + 2], k, flt)  # rows: _exact_knn
        for got, row in zip(one, two, strict=True):
            np.testing.assert_array_equal(got[0], row[0])
        want_idx, want_d = brute(atlas.stations, usable, lon[i], lat[i], k)
        np.testing.assert_allclose(one[1][0, :len(want_d)], want_d, rtol=0, atol=1e-6)
        assert set(one[0][0, :len(want_idx)]) == set(want_idx)


def test_distances_agree_with_haversine_and_utm(atlas, points):
    lon, lat = points
    idx, dist, bearing = atlas.index.query(lon, lat, 3)
    s = atlas.stations
    slon, slat = s["lon"].values[idx], s["lat"].values[idx]
    hav = haversine(lon[:, None], lat[:, None], slon, slat)
    assert np.abs(dist / hav - 1).max() < 0.005  # sphere vs ellipsoid: within 0.5 %
    x0, y0 = TO_UTM.transform(lon, lat)
    x1, y1 = TO_UTM.transform(slon, slat)
    utm = np.hypot(x1 - x0[:, None], y1 - y0[:, None])
    assert np.abs(dist - utm).max() < 0.0006 * dist.max() + 0.5  # UTM scale error ~0.02 %
    az = np.degrees(np.arctan2(x1 - x0[:, None], y1 - y0[:, None])) % 360
    diff = np.abs((bearing - az + 180) % 360 - 180)
    assert np.median(diff) < 2.0  # grid vs true north differ by the meridian convergence


def test_known_distance_people_square_to_oriental_pearl():
    """A hand-checked pair: about 2.74 km apart, the tower lying east-north-east."""
    st = pd.DataFrame({"lon": [121.4998], "lat": [31.2397], "type": ["relay"],
                       "amenity_bits": [0], "opening_hours": ["24/7"]})
    _, dist, bearing = NearestIndex(st).query(121.4737, 31.2304, 1)
    assert dist[0, 0] == pytest.approx(haversine(121.4737, 31.2304, 121.4998, 31.2397), rel=3e-3)
    assert 2_600 < dist[0, 0] < 2_800 and 60 < bearing[0, 0] < 75


def national_set(n: int, seed: int) -> pd.DataFrame:
    """Synthetic stations spread across China, for national-scale correctness."""
    rng = np.random.default_rng(seed)
    types = rng.choice(["relay", "health", "fitness"], n, p=[0.86, 0.09, 0.05])
    bits = rng.integers(0, 512, n)
    return pd.DataFrame({"lon": rng.uniform(75, 134, n), "lat": rng.uniform(18, 53, n),
                         "type": types, "amenity_bits": bits,
                         "opening_hours": rng.choice(["24/7", "Mo-Fr 09:00-17:00"], n)})


def test_national_scale_far_from_utm_zone_is_exact():
    st = national_set(20_000, 1)
    index = NearestIndex(st)
    rng = np.random.default_rng(2)
    qlon, qlat = rng.uniform(75, 134, 200), rng.uniform(18, 53, 200)
    need = ("water", "ac")
    flt = StationFilter(type="relay", amenities=need)
    idx, dist, _ = index.query(qlon, qlat, 4, flt)
    usable = (st["type"] == "relay").to_numpy() & ((st["amenity_bits"] & amenity_bits(need))
                                                    == amenity_bits(need)).to_numpy()
    for i in range(len(qlon)):
        want_idx, want_d = brute(st, usable, qlon[i], qlat[i], 4)
        np.testing.assert_allclose(dist[i], want_d, atol=1e-6)
        assert set(idx[i]) == set(want_idx)


def test_fewer_usable_than_k_pads_with_minus_one(atlas):
    flt = StationFilter(type="fitness", open_at=datetime(2026, 11, 24, 23, 30))
    idx, dist, _ = atlas.index.query(121.47, 31.23, 50, flt)
    usable = usable_brute(atlas.stations, flt).sum()
    assert (idx[0] >= 0).sum() == min(usable, 50)
    assert np.isinf(dist[0][idx[0] < 0]).all()


def test_no_usable_station_gives_empty_answer():
    st = national_set(100, 3)
    index = NearestIndex(st[st["type"] != "fitness"].reset_index(drop=True))
    idx, dist, _ = index.query([121.0, 122.0], [31.0, 31.5], 3, StationFilter(type="fitness"))
    assert (idx == -1).all() and np.isinf(dist).all()


def test_bulk_nearest_distance_matches_exact_geodesic(atlas):
    """The coverage path (chord + arc correction) against the exact query, every demand cell."""
    g = atlas.grid
    for flt in (StationFilter(type="relay"),
                StationFilter(type="health", open_at=datetime(2026, 11, 24, 12))):
        mask = atlas.index.usable(flt) if flt.open_at else None
        fast, j = atlas.index.nearest_distance(g.lon, g.lat, flt.type, mask)
        idx, exact, _ = atlas.index.query(g.lon, g.lat, 1, flt)
        assert (j == idx[:, 0]).mean() > 0.9999  # only exact ties may differ
        assert np.abs(fast - exact[:, 0]).max() < 1e-3  # under a millimetre


def test_bulk_nearest_distance_with_no_usable_station():
    st = national_set(50, 4)
    index = NearestIndex(st)
    d, j = index.nearest_distance([121.0], [31.0], "relay", np.zeros(len(st), bool))
    assert np.isinf(d).all() and (j == -1).all()


def test_one_point_ecef_agrees_with_the_arrays():
    """The courier's point goes through the math module, the stations through numpy: the
    same formula agrees to a micrometre (numpy's SIMD sin/cos may differ from the math module
    in the last place, about 1e-9 m here), far inside the millimetre the chord bound keeps."""
    from geo.index.nearest import ecef, ecef_point

    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(-180, 180, 20_000), rng.uniform(-90, 90, 20_000)
    one = np.array([ecef_point(x, y) for x, y in zip(lon.tolist(), lat.tolist(), strict=True)])
    assert np.abs(one - ecef(lon, lat)).max() < 1e-6  # metres
