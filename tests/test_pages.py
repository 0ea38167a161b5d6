"""Server-side checks of the pages: local assets only, sample banner, language, tiles."""

from __future__ import annotations

import re

import pytest

CDN = re.compile(r"cdn\.|jsdelivr|unpkg|cdnjs|code\.jquery|bootstrapcdn|googleapis|"
                 r"cloudflare|fontawesome\.com", re.I)


def asset_urls(html: str) -> list[str]:
    """Scripts, stylesheets and icons: what the browser loads (not alternate/oEmbed links)."""
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    links = [re.search(r'href="([^"]+)"', tag).group(1)
             for tag in re.findall(r"<link\b[^>]*>", html, re.S)
             if re.search(r'rel="(?:stylesheet|icon)"', tag)]
    return scripts + links


@pytest.mark.parametrize("path", ["/", "/?lang=en"])
def test_pages_reference_no_cdn_and_every_asset_is_served(client, path):
    r = client.get(path)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert not CDN.search(html)
    urls = asset_urls(html)
    assert any(u.split("?")[0].endswith("leaflet.js") for u in urls)
    for url in urls:
        assert url.startswith("/static/"), url
        res = client.get(url)
        assert res.status_code == 200, url
        if url.endswith(".css") or url.endswith(".js"):
            assert not CDN.search(res.get_data(as_text=True).split("sourceMappingURL")[0]), url


def test_vendored_assets_record_version_and_licence():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "app" / "static" / "vendor" / "README.md").read_text()
    assert "leaflet" in readme and "1.9.3" in readme and "BSD-2-Clause" in readme


def test_sample_banner_in_both_languages(client):
    zh = client.get("/").get_data(as_text=True)
    en = client.get("/?lang=en").get_data(as_text=True)
    assert "示例数据" in zh and 'lang="zh-CN"' in zh
    assert "Sample data" in en and 'lang="en"' in en
    assert client.get("/?lang=xx").status_code == 200  # unknown language falls back


def test_no_data_text_is_inlined_in_the_page(client, atlas):
    """Station and district names reach the page only through the API, as data."""
    html = client.get("/").get_data(as_text=True)
    assert atlas.stations["name"].iloc[0] not in html
    assert "浦东新区" not in html


def test_amap_tiles_shift_everything_to_gcj02():
    """With Amap tiles the districts file and the station pack the page loads are in GCJ-02."""
    import json as _json

    import shapely

    from app import create_app
    from geo.coords import wgs84_to_gcj02

    app = create_app({"STATIONS_TILES": "amap"})
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    assert "autonavi.com" in html and '"crs":"gcj02"' in html
    cfg = _json.loads(re.search(r'<script id="cfg" type="application/json">(.*?)</script>',
                                html, re.S).group(1))
    assert "out_crs=gcj02" in cfg["districts_url"] and "out_crs=gcj02" in cfg["api"]["pack"]
    shown = client.get(cfg["districts_url"]).get_json()
    plain = client.get(cfg["districts_url"].replace("gcj02", "wgs84")).get_json()
    for a, b in zip(shown["features"], plain["features"], strict=True):
        ca = shapely.geometry.shape(a["geometry"]).centroid
        cb = shapely.geometry.shape(b["geometry"]).centroid
        gx, gy = (float(v) for v in wgs84_to_gcj02(cb.x, cb.y))
        assert abs(ca.x - gx) < 5e-4 and abs(ca.y - gy) < 5e-4  # shifted ~500 m, to ~50 m
        assert abs(ca.x - cb.x) > 1e-3
    pack = client.get(cfg["api"]["pack"]).get_json()["stations"]
    gx, gy = wgs84_to_gcj02(pack["lon"][:50], pack["lat"][:50])
    assert max(abs(a - b) for a, b in zip(pack["x"][:50], gx, strict=True)) < 1e-6
    assert max(abs(a - b) for a, b in zip(pack["y"][:50], gy, strict=True)) < 1e-6
