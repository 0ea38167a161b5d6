"""Embed routes, framing headers and oEmbed."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from app import create_app


def directive(r, name: str) -> str:
    """One directive of the response's Content-Security-Policy."""
    parts = [p.strip() for p in r.headers["Content-Security-Policy"].split(";")]
    return next(p for p in parts if p.startswith(name + " "))


@pytest.mark.parametrize("path", ["/embed/finder", "/embed/finder?lat=31.23&lng=121.47&k=3",
                                  "/embed/coverage?type=health", "/embed/station/relay-0001",
                                  "/embed/finder?lat=999"])
def test_embed_routes_may_be_framed_by_anyone_by_default(client, path):
    r = client.get(path)
    assert directive(r, "frame-ancestors") == "frame-ancestors *"
    assert "X-Frame-Options" not in r.headers


@pytest.mark.parametrize("path", ["/", "/planner", "/api/stations?type=fitness", "/oembed",
                                  "/static/app.css"])
def test_other_routes_are_same_origin_only(client, path):
    r = client.get(path)
    assert directive(r, "frame-ancestors") == "frame-ancestors 'self'"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_frame_ancestors_is_configurable_and_validated(monkeypatch):
    app = create_app({"STATIONS_TILES": "none",
                      "STATIONS_FRAME_ANCESTORS": "https://union.example.org 'self'"})
    r = app.test_client().get("/embed/finder")
    assert directive(r, "frame-ancestors") == "frame-ancestors https://union.example.org 'self'"
    monkeypatch.setenv("STATIONS_FRAME_ANCESTORS", "https://a.example; script-src *")
    with pytest.raises(ValueError, match="STATIONS_FRAME_ANCESTORS"):
        create_app({"STATIONS_TILES": "none"})


@pytest.mark.parametrize(("query", "param"), [
    ("/embed/finder?lat=999&lng=121", "lat"), ("/embed/finder?lat=31", "lng"),
    ("/embed/finder?zoom=40", "zoom"), ("/embed/finder?type=bus", "type"),
    ("/embed/finder?amenity=sauna", "amenity"), ("/embed/finder?open_now=yes", "open_now"),
    ("/embed/finder?lang=fr", "lang"), ("/embed/finder?tiles=google", "tiles"),
    ("/embed/finder?k=99", "k"), ("/embed/coverage?threshold_m=-1", "threshold_m"),
    ("/embed/coverage?district=Gotham", "district"), ("/embed/coverage?at=later", "at"),
    ("/embed/station/relay-0001?lang=xx", "lang"),
])
def test_bad_embed_parameters_give_an_inline_message(client, query, param):
    r = client.get(query)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert 'role="alert"' in html and f"<code>{param}</code>" in html


def test_unknown_station_embed_is_inline_404(client):
    r = client.get("/embed/station/<img src=x onerror=alert(1)>")
    assert r.status_code == 404 and "&lt;img src=x onerror=alert(1)&gt;" in r.get_data(
        as_text=True)
    assert "<img src=x" not in r.get_data(as_text=True)


def hours_rows(html: str) -> list[tuple[str, str]]:
    import re

    table = re.search(r'<table class="hours">(.*?)</table>', html, re.S).group(1)
    return re.findall(r"<th>(.*?)</th><td>(.*?)</td>", table)


def test_station_card_shows_the_station(client, atlas):
    st = atlas.stations.iloc[5]
    assert st["opening_hours"] == "Mo-Fr 08:30-11:30,13:30-17:00"
    html = client.get(f"/embed/station/{st['id']}?lang=en").get_data(as_text=True)
    assert st["name"] in html
    assert hours_rows(html) == [(d, "08:30–11:30, 13:30–17:00")
                                for d in ("Mon", "Tue", "Wed", "Thu", "Fri")] + [
        ("Sat", "closed"), ("Sun", "closed")]
    zh = client.get(f"/embed/station/{st['id']}").get_data(as_text=True)
    assert hours_rows(zh)[-1] == ("日", "休息") and st["opening_hours"] not in zh
    assert "uri.amap.com/navigation" in html and "Sample data" in html
    assert "Amap · walk" in html and "高德步行" in zh
    assert '<base target="_blank">' in html  # links leave the frame in a new tab


def test_embed_finder_carries_view_filters_and_origin(client):
    html = client.get("/embed/finder?lat=31.2304&lng=121.4737&zoom=16&type=health"
                      "&amenity=water&open_now=1&lang=en&k=7").get_data(as_text=True)
    cfg = re.search(r'<script id="cfg" type="application/json">(.*?)</script>', html).group(1)
    import json

    cfg = json.loads(cfg)
    assert cfg["k"] == 7 and cfg["embed"] is True and cfg["view"]["zoom"] == 16
    assert cfg["origin"] == {"lng": 121.4737, "lat": 31.2304, "crs": "wgs84"}
    assert '<option value="health" selected>' in html
    assert 'value="water" checked' in html and '<option value="now" selected>' in html
    assert "Open the full site" in html and 'class="controls" hidden' in html


def test_amap_tiles_embed_shows_the_view_in_gcj02(client):
    from geo.coords import wgs84_to_gcj02

    html = client.get("/embed/finder?lat=31.2304&lng=121.4737&tiles=amap").get_data(
        as_text=True)
    glon, glat = (float(v) for v in wgs84_to_gcj02(121.4737, 31.2304))
    assert '"crs":"gcj02"' in html and f'"lat":{glat}' in html and f'"lng":{glon}' in html


@pytest.mark.parametrize("page", ["/", "/planner", "/embed/finder", "/embed/coverage",
                                  "/embed/station/relay-0001"])
def test_every_page_has_oembed_discovery(client, page):
    html = client.get(page).get_data(as_text=True)
    link = re.search(r'<link rel="alternate" type="application/json\+oembed"[^>]*>', html, re.S)
    assert link and "/oembed?url=" in link.group(0)


def oembed(client, url: str, **params):
    return client.get("/oembed", query_string={"url": url, **params})


@pytest.mark.parametrize(("page", "embed_path", "size"), [
    ("http://localhost/?lat=31.2&lng=121.4&type=relay&lang=en&junk=1", "/embed/finder",
     (600, 500)),
    ("http://localhost/embed/finder?k=3", "/embed/finder", (600, 500)),
    ("http://localhost/planner?type=health&threshold_m=2500", "/embed/coverage", (600, 450)),
    ("http://localhost/embed/station/relay-0001", "/embed/station/relay-0001", (360, 480)),
])
def test_oembed_rich_response(client, page, embed_path, size):
    r = oembed(client, page, format="json")
    assert r.status_code == 200
    body = r.get_json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert (body["width"], body["height"]) == size
    src = re.search(r'<iframe src="([^"]+)"', body["html"]).group(1).replace("&amp;", "&")
    parsed = urlparse(src)
    assert parsed.path == embed_path
    q = parse_qs(parsed.query)
    assert "junk" not in q
    if "type=relay" in page:
        assert q["type"] == ["relay"] and q["lang"] == ["en"]
    assert f'width="{size[0]}"' in body["html"] and "sandbox=" in body["html"]


def test_oembed_clamps_to_maxwidth_and_maxheight(client):
    body = oembed(client, "http://localhost/", maxwidth="320", maxheight="240").get_json()
    assert (body["width"], body["height"]) == (320, 240)
    assert 'width="320" height="240"' in body["html"]
    body = oembed(client, "http://localhost/", maxwidth="5000").get_json()
    assert body["width"] == 600  # never larger than our size, only smaller


@pytest.mark.parametrize(("params", "status"), [
    ({"url": "http://localhost/", "format": "xml"}, 501),
    ({"url": "http://elsewhere.example/"}, 404),
    ({"url": "http://localhost/api/stations"}, 404),
    ({"url": "http://localhost/embed/station/nope"}, 404),
    ({"url": "ftp://localhost/"}, 404),
    ({}, 400),
    ({"url": "http://localhost/", "maxwidth": "wide"}, 400),
    ({"url": "http://localhost/", "maxheight": "-5"}, 400),
])
def test_oembed_errors(client, params, status):
    r = client.get("/oembed", query_string=params)
    assert r.status_code == status and "error" in r.get_json()


def test_snippet_button_on_full_pages_only(client):
    assert 'id="embed-open"' in client.get("/").get_data(as_text=True)
    assert 'id="embed-open"' in client.get("/planner").get_data(as_text=True)
    assert 'id="embed-open"' not in client.get("/embed/finder").get_data(as_text=True)


def test_content_security_policy_restricts_scripts_to_self_and_this_pages_nonce(client):
    import re

    r = client.get("/")
    script = directive(r, "script-src")
    nonce = re.search(r"'nonce-([^']+)'", script).group(1)
    assert script == f"script-src 'self' 'nonce-{nonce}'"
    html = r.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    executable = [a for a in inline if "application/json" not in a]
    assert executable and all(f'nonce="{nonce}"' in a for a in executable)
    assert client.get("/").headers["Content-Security-Policy"] != r.headers[
        "Content-Security-Policy"]  # a fresh nonce per response
    assert directive(r, "connect-src") == "connect-src 'self'"
    assert r.headers["Permissions-Policy"].startswith("geolocation=(self)")
    osm = create_app({"STATIONS_TILES": "osm"}).test_client().get("/")
    assert "https://tile.openstreetmap.org" in directive(osm, "img-src")
    amap = create_app({"STATIONS_TILES": "amap", "STATIONS_HSTS": True}).test_client().get("/")
    assert "https://*.is.autonavi.com" in directive(amap, "img-src")
    assert amap.headers["Strict-Transport-Security"].startswith("max-age=")
