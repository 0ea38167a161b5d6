"""Server side of the phone finder: notes instead of absurd answers, pages and errors in the
visitor's language, state in the URL, versioned compressed files, the station pack, search."""

from __future__ import annotations

import gzip
import json
import random
import re
from datetime import datetime, timedelta

import pytest

from app.i18n import STRINGS


def cfg_of(html: str) -> dict:
    return json.loads(re.search(r'<script id="cfg" type="application/json">(.*?)</script>',
                                html, re.S).group(1))


def test_a_point_far_from_every_station_gets_a_note_not_an_answer(client):
    fc = client.get("/api/nearest?lat=40&lng=-74").get_json()
    assert fc["features"] == [] and fc["note_code"] == "far"
    assert 11_800 < fc["note_km"] < 12_000 and "20 km" in fc["note"]
    near = client.get("/api/nearest?lat=31.2304&lng=121.4737").get_json()
    assert len(near["features"]) == 5 and "note" not in near


def test_cli_says_the_same(tmp_path):
    from click.testing import CliRunner

    from app.cli.main import cli

    out = CliRunner().invoke(cli, ["nearest", "--lat", "40", "--lng", "-74"])
    assert out.exit_code == 0 and "no matching station within 20 km" in out.output


@pytest.mark.parametrize("path, status", [("/api/nearest?lat=31.23&lng=121.47&k=500", 400),
                                          ("/embed/finder?lat=31.23&lng=121.47&k=500", 400)])
def test_k_above_fifty_is_refused_by_the_api_and_the_embed(client, path, status):
    r = client.get(path)
    assert r.status_code == status
    assert "50" in r.get_data(as_text=True)


def test_k_above_fifty_on_the_page_is_capped_with_a_visible_note(client):
    html = client.get("/?k=500&lang=en").get_data(as_text=True)
    cfg = cfg_of(html)
    assert cfg["k"] == 50
    assert "At most 50 stations are listed (the link asked for 500)" in html


def test_bad_page_parameters_are_noted_not_fatal(client):
    r = client.get("/?lat=abc&lng=121.4&type=bus")
    assert r.status_code == 200
    cfg = cfg_of(r.get_data(as_text=True))
    assert cfg["origin"] is None and cfg["filters"]["type"] is None
    assert any("lat" in n for n in cfg["notes"]) and any("type" in n for n in cfg["notes"])


def test_the_page_reads_its_whole_state_from_the_url(client):
    html = client.get("/?lat=31.2304&lng=121.4737&zoom=16&type=health&amenity=water"
                      "&amenity=wifi&at=2026-11-24T21:00&lang=en&k=7&station=relay-0001"
                      ).get_data(as_text=True)
    cfg = cfg_of(html)
    assert cfg["filters"] == {"type": "health", "amenities": ["water", "wifi"], "time": "at",
                              "at": "2026-11-24T21:00", "mode": None}
    assert cfg["k"] == 7 and cfg["station"] == "relay-0001"
    assert abs(cfg["origin"]["lat"] - 31.2304) < 1e-9 and cfg["view"]["zoom"] == 16
    assert 'value="2026-11-24T21:00"' in html
    assert re.search(r'value="wifi" checked', html)  # a rare amenity, behind "More"
    assert re.search(r'<details class="more" open>', html)


def test_language_link_keeps_every_parameter(client):
    html = client.get("/?lat=31.2&lng=121.4&type=relay&amenity=water&open_now=0"
                      ).get_data(as_text=True)
    href = re.search(r'<a class="lang" href="([^"]+)"', html).group(1)
    assert href == "/?lat=31.2&amp;lng=121.4&amp;type=relay&amp;amenity=water&amp;open_now=0" \
                   "&amp;lang=en"


def test_navigation_links_name_the_start_in_the_page_language(client):
    for lang, label in (("zh", "起点"), ("en", "Start")):
        fc = client.get(f"/api/nearest?lat=31.2304&lng=121.4737&lang={lang}").get_json()
        nav = fc["features"][0]["properties"]["nav"]
        assert set(nav) == {"amap", "amap_walk", "baidu", "baidu_walk"}
        from urllib.parse import parse_qs, urlparse

        assert parse_qs(urlparse(nav["amap"]).query)["from"][0].endswith("," + label)
        assert parse_qs(urlparse(nav["baidu_walk"]).query)["origin"][0].endswith(
            "|name:" + label)
        assert parse_qs(urlparse(nav["amap_walk"]).query)["mode"] == ["walk"]
        assert parse_qs(urlparse(nav["baidu"]).query)["mode"] == ["riding"]


def test_no_string_key_shadows_a_dict_method():
    """Jinja's t.copy finds dict.copy before the key: keys must not be dict attributes."""
    for table in STRINGS.values():
        assert [k for k in table if hasattr({}, k)] == []
    assert set(STRINGS["zh"]) == set(STRINGS["en"])


def test_embed_dialog_copy_button_and_one_zoomable_viewport(client):
    html = client.get("/").get_data(as_text=True)
    assert ">复制代码</button>" in html and "built-in method" not in html
    metas = re.findall(r'<meta name="viewport"[^>]*>', html)
    assert metas == ['<meta name="viewport" content="width=device-width, initial-scale=1">']


@pytest.mark.parametrize("lang, heading, home", [("zh", "找不到页面", "返回找站点"),
                                                 ("en", "Page not found", "Back to the finder")])
def test_not_found_page_in_the_page_language(client, lang, heading, home):
    r = client.get(f"/no/such/page?lang={lang}")
    html = r.get_data(as_text=True)
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert heading in html and home in html and 'href="/?lang=' in html
    assert "app.css" in html  # styled like the rest of the site


def test_unexpected_errors_get_a_styled_page_not_a_traceback():
    from app import create_app

    app = create_app({"STATIONS_TILES": "none"})

    def boom():
        raise RuntimeError("secret detail")

    app.add_url_rule("/boom", "boom", boom)
    r = app.test_client().get("/boom?lang=en")
    html = r.get_data(as_text=True)
    assert r.status_code == 500 and "Server error" in html and "secret detail" not in html


def test_embed_errors_speak_the_page_language(client):
    zh = client.get("/embed/finder?lat=abc&lng=121.4").get_data(as_text=True)
    assert "参数 lat 的值无效：abc" in zh and "must be" not in zh
    en = client.get("/embed/finder?lat=abc&lng=121.4&lang=en").get_data(as_text=True)
    assert "lat must be a number" in en
    gone = client.get("/embed/station/nope").get_data(as_text=True)
    assert "没有编号为 nope 的站点" in gone


def test_static_files_are_versioned_cached_and_compressed(client, app):
    from pathlib import Path

    html = client.get("/").get_data(as_text=True)
    url = re.search(r'src="(/static/vendor/leaflet-1.9.3/leaflet.js\?v=[0-9a-f]{12})"',
                    html).group(1)
    raw = (Path(app.static_folder) / "vendor/leaflet-1.9.3/leaflet.js").read_bytes()
    r = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert r.headers["Content-Encoding"] == "gzip" and gzip.decompress(r.data) == raw
    assert len(r.data) < len(raw) / 3
    import brotli

    br = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert br.headers["Content-Encoding"] == "br" and brotli.decompress(br.data) == raw
    plain = client.get(url)
    assert plain.data == raw and "Content-Encoding" not in plain.headers
    stale = client.get(url.split("?")[0] + "?v=old")
    assert stale.headers["Cache-Control"] == "no-cache"  # a stale version is not pinned
    again = client.get(url, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/static/../app/__init__.py").status_code == 404


def test_districts_are_one_small_cacheable_file_not_inlined(client, atlas):
    html = client.get("/").get_data(as_text=True)
    assert '"coordinates"' not in html and len(html.encode()) < 30_000
    url = cfg_of(html)["districts_url"]
    r = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.headers["Cache-Control"].startswith("public, max-age=31536000")
    doc = json.loads(gzip.decompress(r.data))
    assert len(doc["features"]) == len(atlas.districts) and len(r.data) < 25_000
    assert set(doc["features"][0]["properties"]) == {"code"}


def test_pack_open_spans_agree_with_the_hours_evaluator(client, atlas):
    """Brute force: at random minutes of the pack's two weeks, the spans say what the
    opening_hours evaluator says for every station."""
    from geo.hours import is_open

    pack = client.get("/api/pack").get_json()
    start = datetime.fromisoformat(pack["start"])
    s = pack["stations"]
    assert s["id"] == atlas.stations["id"].tolist()
    rng = random.Random(7)
    minutes = [rng.randrange(pack["days"] * 1440) for _ in range(25)] + [0, 17 * 60, 17 * 60 - 1]
    for m in minutes:
        at = start + timedelta(minutes=m)
        for i in rng.sample(range(len(s["id"])), 60):
            spans = pack["hours"][s["hours"][i]]["open"]
            assert any(a <= m < b for a, b in spans) == is_open(
                atlas.stations["opening_hours"].iloc[i], at)


def test_week_table_and_holiday_rule():
    from geo.hours import holiday_rule, week_table

    monday = datetime(2026, 11, 23)
    assert week_table("Mo-Fr 08:30-11:30,13:30-17:00; PH off", monday)[0] == [
        ("08:30", "11:30"), ("13:30", "17:00")]
    assert week_table("Fr 22:00-02:00", monday)[4:6] == [[("22:00", "24:00")],
                                                          [("00:00", "02:00")]]
    assert week_table("24/7", monday) == [[("00:00", "24:00")]] * 7
    assert holiday_rule("Mo-Fr 09:00-17:00; PH off") == "off"
    assert holiday_rule("Mo-Su 09:00-21:00; PH 10:00-16:00") == "10:00-16:00"
    assert holiday_rule("24/7") is None


def test_service_worker_lists_only_files_that_exist_and_the_manifest(client):
    sw = client.get("/sw.js")
    assert sw.mimetype == "text/javascript" and sw.headers["Cache-Control"] == "no-cache"
    urls = json.loads(re.search(r"const URLS = (\[.*?\]);", sw.get_data(as_text=True)).group(1))
    assert any("/api/pack?" in u for u in urls) and any("leaflet.js" in u for u in urls)
    for u in urls:
        assert client.get(u).status_code == 200, u
    page = client.get("/").get_data(as_text=True)
    loaded = re.findall(r'<script src="(/static/[^"]+)"', page) + re.findall(
        r'<link rel="stylesheet" href="(/static/[^"]+)"', page)
    assert loaded and set(loaded) <= set(urls)  # everything the finder loads works offline
    man = client.get("/manifest.webmanifest")
    doc = json.loads(man.data)
    assert man.mimetype == "application/manifest+json"
    assert doc["start_url"] == "/" and doc["display"] == "standalone" and doc["icons"]


class TestSearch:
    def test_amap_and_baidu_links(self):
        from geo.finder.typed_point import parse_text_point

        pts = parse_text_point("来这 https://uri.amap.com/marker?position=121.4755,31.2327&name=x")
        assert [(p.lon, p.lat, p.crs, p.source) for p in pts] == [
            (121.4755, 31.2327, "gcj02", "link")]
        pts = parse_text_point("https://map.baidu.com/?latlng=31.2387,121.4821&title=x")
        assert [(p.lon, p.lat, p.crs) for p in pts] == [(121.4821, 31.2387, "bd09")]
        pts = parse_text_point("https://ditu.amap.com/regeo?lng=121.47&lat=31.23&name=a")
        assert [(p.lon, p.lat, p.crs) for p in pts] == [(121.47, 31.23, "gcj02")]
        pts = parse_text_point("https://uri.amap.com/marker?position=121.47,31.23&coordinate=wgs84")
        assert pts[0].crs == "wgs84"
        assert parse_text_point("https://surl.amap.com/abc123") == []
        assert parse_text_point("https://evil.example/?position=121.47,31.23") == []

    def test_typed_coordinates(self):
        from geo.finder.typed_point import parse_text_point

        both = parse_text_point("31.2304, 121.4737")
        assert [p.crs for p in both] == ["wgs84", "gcj02", "bd09"]
        assert {(p.lon, p.lat) for p in both} == {(121.4737, 31.2304)}
        first = parse_text_point("121.4737,31.2304")[0]
        assert (first.lon, first.lat) == (121.4737, 31.2304)  # lng,lat order recognised
        assert [p.crs for p in parse_text_point("百度 31.2304 121.4737")] == ["bd09"]
        assert [p.crs for p in parse_text_point("GCJ-02: 31.2304,121.4737")] == ["gcj02"]
        assert parse_text_point("12, 13") == [] and parse_text_point("hello") == []

    def test_api_converts_to_wgs84(self, client):
        from geo.coords import bd09_to_wgs84

        r = client.get("/api/search", query_string={
            "q": "https://map.baidu.com/?latlng=31.2387,121.4821"}).get_json()
        (hit,) = r["results"]
        want = bd09_to_wgs84(121.4821, 31.2387)
        assert abs(hit["lon"] - float(want[0])) < 1e-7 and abs(hit["lat"] - float(want[1])) < 1e-7
        short = client.get("/api/search?q=https://surl.amap.com/abc").get_json()
        assert short["results"] == [] and "no coordinates" in short["note"]

    def test_names(self, client, atlas):
        r = client.get("/api/search?q=徐汇").get_json()
        assert r["results"][0]["kind"] == "district" and r["results"][0]["label"] == "徐汇区"
        r = client.get("/api/search?q=Zhujiajiao&lang=en").get_json()
        assert r["results"][0]["kind"] == "place" and r["results"][0]["label"] == "Zhujiajiao"
        assert "GeoNames" in r["credit"]
        name = atlas.stations["name"].iloc[42]
        r = client.get("/api/search", query_string={"q": name}).get_json()
        assert r["results"][0] == {**r["results"][0], "kind": "station",
                                   "id": atlas.stations["id"].iloc[42]}

    def test_bad_queries(self, client):
        assert client.get("/api/search").status_code == 400
        assert client.get("/api/search?q=" + "x" * 2001).status_code == 400
        assert client.get("/api/search?q=%3Cscript%3E").get_json()["results"] == []

    def test_places_come_from_geonames(self):
        from geo.finder.place_search import geonames_places

        places = geonames_places()
        assert 80 <= len(places) <= 150
        assert places["lon"].between(120.8, 122.2).all() and places["lat"].between(30.6, 31.9).all()


def test_embed_defaults_to_open_now_and_oembed_carries_the_whole_state(client):
    cfg = cfg_of(client.get("/embed/finder?lat=31.23&lng=121.47").get_data(as_text=True))
    assert cfg["filters"]["time"] == "now"  # like the full page
    page = ("http://localhost/?lat=31.23&lng=121.47&at=2026-11-24T21:00&mode=walk&type=relay"
            "&amenity=wifi&lang=en&station=relay-0001&zoom=15")
    doc = client.get("/oembed", query_string={"url": page}).get_json()
    src = re.search(r'src="([^"]+)"', doc["html"]).group(1).replace("&amp;", "&")
    from urllib.parse import parse_qs, urlparse

    q = parse_qs(urlparse(src).query)
    assert q == {"lat": ["31.23"], "lng": ["121.47"], "at": ["2026-11-24T21:00"],
                 "mode": ["walk"], "type": ["relay"], "amenity": ["wifi"], "lang": ["en"],
                 "station": ["relay-0001"], "zoom": ["15"]}
