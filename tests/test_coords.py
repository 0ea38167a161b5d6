"""Datum conversions against published pairs and closed round trips."""

from __future__ import annotations

import numpy as np
import pytest

from geo import coords

M_PER_DEG = 111_195.0  # metres per degree of latitude (mean sphere), for error budgets


def metres(dlon: np.ndarray, dlat: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Approximate ground distance of a small degree offset."""
    return np.hypot(dlon * M_PER_DEG * np.cos(np.radians(lat)), dlat * M_PER_DEG)


def test_known_wgs84_to_gcj02_pair_oriental_pearl():
    lon, lat = coords.wgs84_to_gcj02(121.4998, 31.2397)
    assert abs(lon - 121.504232754) < 1e-8
    assert abs(lat - 31.237686003) < 1e-8


@pytest.mark.parametrize(("func", "expected"), [
    # Values published with the widely used coordTransform reference implementation.
    (coords.wgs84_to_gcj02, (116.41024449916938, 39.91640428150164)),
    (coords.gcj02_to_bd09, (116.41036949371029, 39.92133699351022)),
])
def test_published_forward_pairs_beijing(func, expected):
    lon, lat = func(116.404, 39.915)
    assert lon == pytest.approx(expected[0], abs=1e-9)
    assert lat == pytest.approx(expected[1], abs=1e-9)


def test_gcj02_shift_is_hundreds_of_metres_in_shanghai():
    lon, lat = coords.wgs84_to_gcj02(121.4737, 31.2304)
    shift = metres(lon - 121.4737, lat - 31.2304, 31.2304)
    assert 300 < shift < 800


@pytest.fixture(scope="module")
def shanghai_grid() -> tuple[np.ndarray, np.ndarray]:
    """A 300 x 300 grid over Shanghai's extent (90,000 points)."""
    lon, lat = np.meshgrid(np.linspace(120.85, 122.2, 300), np.linspace(30.65, 31.9, 300))
    return lon.ravel(), lat.ravel()


@pytest.mark.parametrize(("fwd", "inv"), [
    (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84),
    (coords.gcj02_to_bd09, coords.bd09_to_gcj02),
    (coords.wgs84_to_bd09, coords.bd09_to_wgs84),
])
def test_round_trips_close_below_a_millimetre(shanghai_grid, fwd, inv):
    lon, lat = shanghai_grid
    back_lon, back_lat = inv(*fwd(lon, lat))
    assert metres(back_lon - lon, back_lat - lat, lat).max() < 1e-3


def test_inverse_then_forward_reproduces_gcj_input(shanghai_grid):
    lon, lat = shanghai_grid
    again = coords.wgs84_to_gcj02(*coords.gcj02_to_wgs84(lon, lat))
    assert metres(again[0] - lon, again[1] - lat, lat).max() < 1e-3


def test_outside_china_passes_through_unchanged():
    lon = np.array([-0.1276, 2.3522, 139.6917, 151.2093])  # London, Paris, Tokyo, Sydney
    lat = np.array([51.5072, 48.8566, 35.6895, -33.8688])
    for func in (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84, coords.wgs84_to_bd09,
                 coords.bd09_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_mixed_arrays_convert_only_the_china_points():
    lon, _ = coords.wgs84_to_gcj02([121.4737, 2.3522], [31.2304, 48.8566])
    assert lon[0] != 121.4737 and lon[1] == 2.3522


def test_shared_vertex_converts_identically_in_any_array():
    """Per-point convergence: polygon edges shared by two districts stay shared."""
    a = coords.gcj02_to_wgs84(np.array([121.5]), np.array([31.2]))
    b = coords.gcj02_to_wgs84(np.array([121.5, 87.6]), np.array([31.2, 43.8]))
    assert a[0][0] == b[0][0] and a[1][0] == b[1][0]


def test_to_and_from_wgs84_dispatch_and_reject_unknown():
    lon, lat = coords.from_wgs84(121.4998, 31.2397, "GCJ-02")
    back = coords.to_wgs84(lon, lat, "gcj02")
    assert back[0] == pytest.approx(121.4998, abs=1e-9)
    assert coords.to_wgs84(1.0, 2.0, "wgs84") == (1.0, 2.0)
    with pytest.raises(ValueError, match="unknown crs"):
        coords.to_wgs84(121.0, 31.0, "utm")
