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
    assert any(u.endswith("leaflet.js") for u in urls)
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
    from app import create_app
    from geo.coords import wgs84_to_gcj02

    app = create_app({"STATIONS_TILES": "amap"})
    html = app.test_client().get("/").get_data(as_text=True)
    assert "autonavi.com" in html and '"crs": "gcj02"' in html
    d = app.extensions["atlas"].districts
    lon, lat = d.geometry.iloc[0].exterior.coords[0] if d.geometry.iloc[0].geom_type == \
        "Polygon" else d.geometry.iloc[0].geoms[0].exterior.coords[0]
    glon, glat = (round(float(v), 5) for v in wgs84_to_gcj02(lon, lat))
    assert f"[{glon}, {glat}]" in html  # the boundary drawn in the page is in GCJ-02
