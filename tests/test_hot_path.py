"""The nearest-station hot path answers exactly what the general (pandas) path answers."""

from __future__ import annotations

import random

import pytest

from geo.finder.hot_path import answer
from geo.finder.search import find_nearest, within_reach
from geo.io.geojson import feature_collection
from geo.navigation import nav_links
from geo.questions import parse_nearest


def general(atlas, q, out_crs, lang):
    """The answer built the general way: pandas rows, per-row links, feature_collection."""
    from geo.coords import from_wgs84

    rows, far = within_reach(find_nearest(atlas, q))
    rows["nav"] = [nav_links(r.lon, r.lat, r.name, (q.lon, q.lat), lang)
                   for r in rows.itertuples()]
    olon, olat = (float(v) for v in from_wgs84(q.lon, q.lat, out_crs))
    top = {"distance_kind": "straight", "mode": q.mode, "sample": atlas.is_sample,
           "origin": [round(olon, 7), round(olat, 7)], "at": q.at.isoformat(timespec="minutes")}
    if far:
        top |= {"note": far["text"], "note_code": far["code"], "note_km": far["km"]}
    return feature_collection(rows, out_crs=out_crs, **top)


CASES = [({}, "wgs84", "zh"), ({"type": "health"}, "gcj02", "en"),
         ({"amenities": ["water", "toilet"]}, "bd09", "zh"),
         ({"open_at": "2026-11-24T21:30"}, "wgs84", "en"),
         ({"open_at": "2026-11-28T08:00", "type": "relay", "k": "12"}, "gcj02", "zh"),
         ({"crs": "gcj02", "k": "50"}, "wgs84", "zh")]


@pytest.mark.parametrize("extra, out_crs, lang", CASES)
def test_same_answer_as_the_general_path(atlas, extra, out_crs, lang):
    import json

    rng = random.Random(hash((str(extra), out_crs)) & 0xFFFF)
    for _ in range(15):
        lat, lng = 30.8 + rng.random() * 0.8, 121.0 + rng.random() * 0.9
        q = parse_nearest(str(lat), str(lng), **extra)
        fast = answer(atlas.arrays, atlas.index, q, out_crs, lang, atlas.is_sample)
        slow = general(atlas, q, out_crs, lang)
        assert json.dumps(fast, ensure_ascii=False) == json.dumps(slow, ensure_ascii=False)


def test_far_points_the_same_way(atlas):
    q = parse_nearest("40", "-74")
    fast = answer(atlas.arrays, atlas.index, q, "wgs84", "zh", True)
    assert fast["features"] == [] and fast["note_code"] == "far"
    assert fast == general(atlas, q, "wgs84", "zh")


@pytest.mark.parametrize("name", ["示例接力站 0001", "A&B, Co.|x:y", "空格 和+号"])
def test_assembled_links_equal_urlencode(name):
    """Links are assembled from encoded parts: the same bytes urlencode gives."""
    from urllib.parse import urlencode

    from geo.coords import wgs84_to_bd09, wgs84_to_gcj02
    from geo.navigation import AMAP_URL, BAIDU_URL, _clean

    g = [float(v) for v in wgs84_to_gcj02(121.47, 31.23)]
    go = [float(v) for v in wgs84_to_gcj02(121.4, 31.2)]
    b = [float(v) for v in wgs84_to_bd09(121.47, 31.23)]
    links = nav_links(121.47, 31.23, name, (121.4, 31.2))
    assert links["amap_walk"] == AMAP_URL + "?" + urlencode({
        "to": f"{g[0]:.6f},{g[1]:.6f},{_clean(name)}", "mode": "walk",
        "from": f"{go[0]:.6f},{go[1]:.6f},起点", "coordinate": "gaode", "callnative": "1",
        "src": "worker-stations"})
    assert nav_links(121.47, 31.23, name)["baidu"] == BAIDU_URL + "?" + urlencode({
        "destination": f"latlng:{b[1]:.6f},{b[0]:.6f}|name:{_clean(name)}",
        "mode": "riding", "coord_type": "bd09ll", "region": "上海", "output": "html",
        "src": "worker-stations"})


def test_origins_encode_as_quote_plus():
    """The per-request origins skip quote_plus for their numbers: the same bytes regardless,
    for coordinates of either sign, any magnitude, and either language's label."""
    from urllib.parse import quote_plus

    from geo.navigation import amap_origin, baidu_origin

    rng = random.Random(5)
    for _ in range(300):
        x, y = rng.uniform(-180, 180), rng.uniform(-90, 90)
        for label in ("起点", "Start", "a,b|c:d e+f"):
            clean = label.replace(",", " ").replace("|", " ").replace(":", " ").strip()
            assert amap_origin((x, y), label) == quote_plus(f"{x:.6f},{y:.6f},{clean}")
            assert baidu_origin((x, y), label) == quote_plus(
                f"latlng:{y:.6f},{x:.6f}|name:{clean}")


def test_one_point_datum_conversions_agree_with_the_arrays():
    """A courier's point converts through the math module, arrays through numpy: the same
    formula, so they agree to 1e-9 degrees (0.1 mm), far below the 7 printed decimals (1 cm).
    Not bit for bit: numpy's SIMD sin/cos (AVX-512 where present) may differ in the last place
    from the math module's."""
    import numpy as np

    from geo.coords import gcj02_to_bd09, wgs84_to_gcj02

    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(73, 135, 20_000), rng.uniform(18, 53, 20_000)
    for convert in (wgs84_to_gcj02, gcj02_to_bd09):
        ax, ay = convert(lon, lat)
        one = np.array([[float(v) for v in convert(x, y)]
                        for x, y in zip(lon.tolist(), lat.tolist(), strict=True)])
        assert np.abs(one[:, 0] - ax).max() < 1e-9 and np.abs(one[:, 1] - ay).max() < 1e-9


def test_one_float_rounding_is_numpys():
    """Distances, bearings and minutes are rounded one float at a time: numpy's bits,
    halves included (x.x5 values are where two roundings would part)."""
    import numpy as np

    from geo.finder.hot_path import _round1

    rng = np.random.default_rng(8)
    values = np.concatenate([rng.uniform(0, 20_000, 50_000),
                             np.round(rng.uniform(0, 20_000, 50_000), 1) + 0.05,
                             rng.uniform(0, 360, 20_000)])
    assert [_round1(v) for v in values.tolist()] == np.round(values, 1).tolist()
