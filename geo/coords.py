"""Datum conversions between WGS-84, GCJ-02 (Amap, Tencent) and BD-09 (Baidu), vectorised.

Chinese map services publish coordinates in GCJ-02 or BD-09, which differ from WGS-84 by
hundreds of metres. The forward formulas are the widely published ones; the inverses are
solved by fixed-point iteration to well under a millimetre. Points outside China are left
unchanged, as the services themselves do.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod

from geo.errors import GeoError

CRS_NAMES = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOL_DEG = 1e-10  # ~0.01 mm: the inverse stops well below the 1 mm promise
_MAX_ITER = 50

Array = NDArray[np.float64]
# The formulas below run on arrays (m=np) or on one point's plain floats (m=_SCALAR): the
# math module gives numpy's bits for these (tested), at a tenth of the cost per call;
# math.hypot does not (it rounds better), so hypot stays numpy's.
_SCALAR = SimpleNamespace(sin=math.sin, cos=math.cos, sqrt=math.sqrt, abs=abs,
                          radians=math.radians, arctan2=math.atan2, hypot=np.hypot, pi=np.pi)


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Broadcast inputs to float arrays so every function accepts scalars or arrays alike."""
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon_a.astype(float, copy=True), lat_a.astype(float, copy=True)


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where the obfuscation applies: the rough box the services use for mainland China."""
    return _in_box(*_as_arrays(lon, lat))


def _in_box(lon, lat):
    """The box test itself, for arrays or plain floats alike."""
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _delta_lat(x: Array, y: Array, m=np) -> Array:
    """GCJ-02 latitude perturbation in metres-ish units, with x = lon - 105, y = lat - 35."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * m.sqrt(m.abs(x))
    ret += (20.0 * m.sin(6.0 * x * m.pi) + 20.0 * m.sin(2.0 * x * m.pi)) * 2.0 / 3.0
    ret += (20.0 * m.sin(y * m.pi) + 40.0 * m.sin(y / 3.0 * m.pi)) * 2.0 / 3.0
    ret += (160.0 * m.sin(y / 12.0 * m.pi) + 320.0 * m.sin(y * m.pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lon(x: Array, y: Array, m=np) -> Array:
    """GCJ-02 longitude perturbation, companion of `_delta_lat`."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * m.sqrt(m.abs(x))
    ret += (20.0 * m.sin(6.0 * x * m.pi) + 20.0 * m.sin(2.0 * x * m.pi)) * 2.0 / 3.0
    ret += (20.0 * m.sin(x * m.pi) + 40.0 * m.sin(x / 3.0 * m.pi)) * 2.0 / 3.0
    ret += (150.0 * m.sin(x / 12.0 * m.pi) + 300.0 * m.sin(x / 30.0 * m.pi)) * 2.0 / 3.0
    return ret


def _gcj_forward(lon: Array, lat: Array, m=np) -> tuple[Array, Array]:
    """The raw GCJ-02 shift, applied everywhere (callers mask out non-China points)."""
    dlat = _delta_lat(lon - 105.0, lat - 35.0, m)
    dlon = _delta_lon(lon - 105.0, lat - 35.0, m)
    radlat = m.radians(lat)
    magic = 1.0 - _EE * m.sin(radlat) ** 2
    sqrtmagic = m.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * m.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * m.cos(radlat) * m.pi)
    return lon + dlon, lat + dlat


def _bd_forward(lon: Array, lat: Array, m=np) -> tuple[Array, Array]:
    """GCJ-02 to BD-09: Baidu's extra rotation and offset on top of GCJ-02."""
    z = m.hypot(lon, lat) + 0.00002 * m.sin(lat * _X_PI)
    theta = m.arctan2(lat, lon) + 0.000003 * m.cos(lon * _X_PI)
    return z * m.cos(theta) + 0.0065, z * m.sin(theta) + 0.006


def _invert(forward, lon: Array, lat: Array) -> tuple[Array, Array]:
    """Solve forward(x) = target by fixed-point iteration; the shifts are smooth and small.

    Each point stops on its own error, so a vertex converts identically whichever array it
    is in: shared polygon edges stay shared.
    """
    x, y = lon.copy(), lat.copy()
    active = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        fx, fy = forward(x[active], y[active])
        ex, ey = fx - lon[active], fy - lat[active]
        x[active] -= ex
        y[active] -= ey
        active = active[(np.abs(ex) >= _TOL_DEG) | (np.abs(ey) >= _TOL_DEG)]
    return x, y


def _masked(func, lon: ArrayLike, lat: ArrayLike, closed_form: bool = False
            ) -> tuple[Array, Array]:
    """Apply a conversion only inside China; everything else passes through unchanged.

    A closed-form conversion of one point given as Python floats (a courier's position)
    skips the array bookkeeping, which costs twenty times the formula itself.
    """
    if closed_form and type(lon) is float and type(lat) is float:
        if not _in_box(lon, lat):
            return np.asarray(lon), np.asarray(lat)
        x, y = func(lon, lat, _SCALAR)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lon_a, lat_a = _as_arrays(lon, lat)
    inside = in_china(lon_a, lat_a)
    if inside.any():
        lon_a[inside], lat_a[inside] = func(lon_a[inside], lat_a[inside])
    return lon_a, lat_a


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """WGS-84 to GCJ-02, what Amap and Tencent expect."""
    return _masked(_gcj_forward, lon, lat, closed_form=True)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """GCJ-02 to WGS-84, iterated so the round trip closes to < 1 mm."""
    return _masked(lambda x, y: _invert(_gcj_forward, x, y), lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """GCJ-02 to BD-09, what Baidu expects."""
    return _masked(_bd_forward, lon, lat, closed_form=True)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """BD-09 to GCJ-02, iterated: the usual closed-form inverse is off by up to a metre."""
    return _masked(lambda x, y: _invert(_bd_forward, x, y), lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """WGS-84 to BD-09 through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """BD-09 to WGS-84 through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def check_crs(crs: str) -> str:
    """Normalise a datum name, so callers can reject unknown ones before any work."""
    name = str(crs).strip().lower().replace("-", "").replace("_", "")
    aliases = {"wgs84": "wgs84", "epsg4326": "wgs84", "gcj02": "gcj02", "bd09": "bd09"}
    if name not in aliases:
        raise GeoError(f"unknown crs {crs!r}: use one of {', '.join(CRS_NAMES)}", param="crs")
    return aliases[name]


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[Array, Array]:
    """Bring input in any supported datum to WGS-84, the datum everything is stored in."""
    convert = _TO_WGS84.get(check_crs(crs), _as_arrays)
    return convert(lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[Array, Array]:
    """Express WGS-84 coordinates in the datum a map service or client expects."""
    convert = _FROM_WGS84.get(check_crs(crs), _as_arrays)
    return convert(lon, lat)


def shift_geometries(geoms: np.ndarray, crs: str) -> np.ndarray:
    """WGS-84 shapely geometries re-expressed in a display datum (GCJ-02 for Amap tiles)."""
    convert = _FROM_WGS84.get(check_crs(crs))
    if convert is None:
        return geoms
    return shapely.transform(geoms, lambda c: np.column_stack(convert(c[:, 0], c[:, 1])))


def geometries_to_wgs84(geoms, crs: str):
    """Geometries in a Chinese datum (Amap's GCJ-02 boundaries) brought to WGS-84."""
    if check_crs(crs) == "wgs84":
        return geoms
    return shapely.transform(geoms, lambda c: np.column_stack(to_wgs84(c[:, 0], c[:, 1], crs)))


GEOD = Geod(ellps="WGS84")
# Metres in a degree of latitude (and of longitude at the equator): for tolerances and jitter
# only, where 0.5 % does not matter; every reported distance is a geodesic.
METRES_PER_DEGREE = 111_320.0


def degrees_to_metres(deg, lat):
    """An east-west-ish span in degrees at latitude `lat` as rough metres (tolerances only)."""
    return np.asarray(deg, float) * METRES_PER_DEGREE * np.cos(np.radians(lat))


def geodesic(lon1, lat1, lon2, lat2) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 geodesic distance (m) and initial bearing (deg, 0-360) between point arrays."""
    az, _, dist = GEOD.inv(np.asarray(lon1, float), np.asarray(lat1, float),
                           np.asarray(lon2, float), np.asarray(lat2, float))
    return np.asarray(dist, float), np.mod(np.asarray(az, float), 360.0)
