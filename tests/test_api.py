"""The JSON API: answers checked against independent computations; every bad input is a 400."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.coords import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")


def test_stations_filtered_by_type_district_amenity(client, atlas):
    r = client.get("/api/stations?type=relay&district=黄浦区&amenity=toilet")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.get_json()
    s = atlas.stations
    want = s[(s["type"] == "relay") & (s["district_code"] == "310101")
             & s["amenities"].map(lambda a: "toilet" in a)]
    assert sorted(f["id"] for f in fc["features"]) == sorted(want["id"])
    assert fc["count"] == len(want) and fc["sample"] is True


def test_district_by_code_or_english_name_is_the_same(client):
    a = client.get("/api/stations?district=310106").get_json()
    b = client.get("/api/stations?district=jing'an").get_json()
    assert a["count"] == b["count"] > 0


def test_bbox_filter_matches_point_in_box(client, atlas):
    box = (121.45, 31.20, 121.50, 31.25)
    fc = client.get("/api/stations?bbox=" + ",".join(map(str, box))).get_json()
    pts = shapely.points(atlas.stations["lon"], atlas.stations["lat"])
    inside = shapely.intersects(shapely.box(*box), pts)
    assert sorted(f["id"] for f in fc["features"]) == sorted(atlas.stations["id"][inside])


def test_open_at_filter(client):
    night = client.get("/api/stations?type=relay&open_at=2026-11-24T23:30").get_json()
    day = client.get("/api/stations?type=relay&open_at=2026-11-24T10:00").get_json()
    assert 0 < night["count"] < day["count"]
    assert all(f["properties"]["opening_hours"] == "24/7" for f in night["features"])


def test_fields_keep_layers_small(client):
    fc = client.get("/api/stations?fields=id,name,type").get_json()
    assert set(fc["features"][0]["properties"]) == {"id", "name", "type"}
    assert len(fc["features"]) == 1512


def test_one_station_and_unknown_id(client):
    r = client.get("/api/stations/relay-0001")
    assert r.status_code == 200 and r.get_json()["properties"]["id"] == "relay-0001"
    r = client.get("/api/stations/nope")
    assert r.status_code == 404 and "nope" in r.get_json()["error"]


def test_one_station_is_the_same_feature_as_in_the_list_in_each_datum(client, atlas):
    """Kept once built (a per-worker cache): asked again, in another datum, or for the other
    stations, each answer is still that station's own feature from the list."""
    from geo.coords import from_wgs84

    row = atlas.stations.iloc[3]
    for _ in range(2):
        for crs in ("wgs84", "gcj02", "bd09"):
            got = client.get(f"/api/stations/{row['id']}?out_crs={crs}").get_json()
            assert got["properties"]["id"] == row["id"] and got["sample"] is True
            want = [float(v) for v in from_wgs84(row["lon"], row["lat"], crs)]
            # written to 6 decimals (about 0.1 m)
            assert got["geometry"]["coordinates"] == pytest.approx(want, abs=5.1e-7)
    listed = {f["properties"]["id"]: f for f in client.get("/api/stations").get_json()["features"]}
    for sid in atlas.stations["id"].iloc[:40]:
        one = client.get(f"/api/stations/{sid}").get_json()
        assert {k: v for k, v in one.items() if k != "sample"} == listed[sid]


def test_nearest_matches_brute_force_and_carries_everything(client, atlas):
    lat, lng = 31.2304, 121.4737
    fc = client.get(f"/api/nearest?lat={lat}&lng={lng}&k=7&type=relay").get_json()
    assert fc["distance_kind"] == "straight" and fc["sample"] is True
    relay = atlas.stations[atlas.stations["type"] == "relay"]
    _, _, d = GEOD.inv(np.full(len(relay), lng), np.full(len(relay), lat),
                       relay["lon"].values, relay["lat"].values)
    want = relay["id"].values[np.argsort(d)[:7]]
    assert [f["id"] for f in fc["features"]] == list(want)
    for f in fc["features"]:
        p = f["properties"]
        assert p["walk_min"] == pytest.approx(p["distance_m"] / 75, abs=0.06)
        assert p["ebike_min"] == pytest.approx(p["distance_m"] / 250, abs=0.06)
        assert isinstance(p["open"], bool)
        assert (p["closes_at"] is None) or p["open"]
        assert set(p["nav"]) >= {"amap", "baidu"}


def test_navigation_links_use_each_services_datum(client, atlas):
    fc = client.get("/api/nearest?lat=31.2304&lng=121.4737&k=1").get_json()
    f = fc["features"][0]
    lon, lat = f["geometry"]["coordinates"]
    amap = parse_qs(urlparse(f["properties"]["nav"]["amap"]).query)
    glon, glat, name = amap["to"][0].split(",")
    wlon, wlat = gcj02_to_wgs84(float(glon), float(glat))
    assert abs(wlon - lon) < 2e-6 and abs(wlat - lat) < 2e-6  # 6-decimal rounding
    assert name == f["properties"]["name"] and amap["mode"] == ["ride"]
    baidu = parse_qs(urlparse(f["properties"]["nav"]["baidu"]).query)
    assert baidu["coord_type"] == ["bd09ll"] and baidu["mode"] == ["riding"]
    blat, blon = baidu["destination"][0].split("|")[0].removeprefix("latlng:").split(",")
    wlon, wlat = bd09_to_wgs84(float(blon), float(blat))  # latitude comes first for Baidu
    assert abs(wlon - lon) < 2e-6 and abs(wlat - lat) < 2e-6


def test_gcj02_input_and_display_output(client):
    glon, glat = (float(v) for v in wgs84_to_gcj02(121.4737, 31.2304))
    a = client.get("/api/nearest?lat=31.2304&lng=121.4737&k=3").get_json()
    b = client.get(f"/api/nearest?lat={glat}&lng={glon}&crs=gcj02&out_crs=gcj02&k=3").get_json()
    assert [f["id"] for f in a["features"]] == [f["id"] for f in b["features"]]
    assert b["coordinates_datum"] == "gcj02"
    assert b["origin"] == pytest.approx([glon, glat], abs=1e-6)
    for fa, fb in zip(a["features"], b["features"], strict=True):
        shifted = wgs84_to_gcj02(*fa["geometry"]["coordinates"])
        assert fb["geometry"]["coordinates"] == pytest.approx([float(v) for v in shifted],
                                                              abs=1e-6)
        assert fb["properties"]["distance_m"] == fa["properties"]["distance_m"]


def test_districts_endpoint(client):
    fc = client.get("/api/districts").get_json()
    assert len(fc["features"]) == 16
    assert {"code", "name", "name_en", "area_km2"} <= set(fc["features"][0]["properties"])


@pytest.mark.parametrize(("query", "param"), [
    ("", "lat"),
    ("lat=31", "lng"),
    ("lat=abc&lng=121", "lat"),
    ("lat=NaN&lng=121", "lat"),
    ("lat=inf&lng=121", "lat"),
    ("lat=95&lng=121", "lat"),
    ("lat=31&lng=-181", "lng"),
    ("lat=31&lng=121&k=0", "k"),
    ("lat=31&lng=121&k=51", "k"),
    ("lat=31&lng=121&k=1.5", "k"),
    ("lat=31&lng=121&type=bus", "type"),
    ("lat=31&lng=121&amenity=sauna", "amenity"),
    ("lat=31&lng=121&open_at=soon", "open_at"),
    ("lat=31&lng=121&crs=utm", "crs"),
    ("lat=31&lng=121&out_crs=osgb", "out_crs"),
])
def test_nearest_bad_input_is_400_json(client, query, param):
    r = client.get(f"/api/nearest?{query}")
    assert r.status_code == 400
    body = r.get_json()
    assert body["param"] == param and body["error"]


@pytest.mark.parametrize(("query", "param"), [
    ("type=x", "type"), ("district=Gotham", "district"), ("bbox=1,2,3", "bbox"),
    ("bbox=3,2,1,x", "bbox"), ("bbox=190,2,1,4", "bbox"), ("amenity=spa", "amenity"),
    ("open_at=13:99", "open_at"),
    ("fields=id,secret", "fields"),
])
def test_stations_bad_input_is_400_json(client, query, param):
    r = client.get(f"/api/stations?{query}")
    assert r.status_code == 400 and r.get_json()["param"] == param


def test_unknown_api_route_is_json_404(client):
    r = client.get("/api/nowhere")
    assert r.status_code == 404 and "error" in r.get_json()


def test_responses_are_gzipped_for_phones(client):
    r = client.get("/api/stations?fields=id,name,type", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    import gzip
    import json

    assert len(json.loads(gzip.decompress(r.data))["features"]) == 1512


def test_bbox_corners_in_either_order_and_past_the_pole(client):
    """A box is the same box whichever corners come first; a latitude past a pole is clipped
    (a zoomed-out map's bounds), never a 400."""
    ids = lambda q: [f["id"] for f in client.get(f"/api/stations?fields=id&bbox={q}")  # noqa: E731
                     .get_json()["features"]]
    ordered = ids("121.4,31.1,121.5,31.3")
    assert ordered and ids("121.5,31.3,121.4,31.1") == ordered == ids("121.4,31.3,121.5,31.1")
    assert len(ids("100,-120,140,120")) == client.get("/api/stations?fields=id").get_json()[
        "count"]
