"""Folium maps for the pages: Leaflet from our static folder, districts as context, no CDN."""

from __future__ import annotations

import re

import folium
from flask import url_for

CENTRE = (31.2304, 121.4737)  # People's Square
PLANNER_VIEW = {"centre": (31.15, 121.45), "zoom": 10}  # the whole city at once
LEAFLET = "vendor/leaflet-1.9.3"
TILES = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>', None),
    "amap": ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
             "&x={x}&y={y}&z={z}", "&copy; 高德地图 AutoNavi", "1234"),
}
MAX_ZOOM = 19
DISPLAY_CRS = {"osm": "wgs84", "amap": "gcj02", "none": "wgs84"}
DISTRICT_STYLE = {"color": "#5c6f82", "weight": 1.2, "fillColor": "#dde6ee", "fillOpacity": 0.25}
DISPLAY_TOLERANCE_DEG = 0.001  # ~100 m, kept to ~10 m: context at city zoom, 18 KB not 54 KB
DISPLAY_DECIMALS = 4
_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>', re.S)
SHARE_STOPS = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac")  # 0 -> 100 %
TYPE_COLOURS = {"relay": "#e8590c", "health": "#c2255c", "fitness": "#2b8a3e"}


def base_map(tiles: str, zoom: int = 11,
             centre: tuple[float, float] = CENTRE) -> folium.Map:
    """A Leaflet map; every asset is served by this app (districts come as a cached file)."""
    # maxZoom on the map itself (folium's max_zoom only reaches tile layers): with no tiles
    # Leaflet would have none, and marker clustering needs one
    m = folium.Map(location=list(centre), zoom_start=zoom, tiles=None, prefer_canvas=True,
                   maxZoom=MAX_ZOOM,
                   control_scale=True)
    m.default_js = [("leaflet", url_for("static", filename=f"{LEAFLET}/leaflet.js"))]
    m.default_css = [("leaflet_css", url_for("static", filename=f"{LEAFLET}/leaflet.css"))]
    if tiles in TILES:
        url, attr, subdomains = TILES[tiles]
        folium.TileLayer(url, attr=attr, name=tiles, max_zoom=MAX_ZOOM,
                         **({"subdomains": subdomains} if subdomains else {})).add_to(m)
    return m


def map_parts(m: folium.Map) -> dict[str, str]:
    """The map's head links/styles, its div and its script, to place in our own template.

    folium's own viewport meta forbids zooming (an accessibility failure): the page's one
    viewport meta, in base.html, is the only one kept.
    """
    fig = m.get_root()
    fig.render()
    header = _VIEWPORT.sub("", fig.header.render())
    return {"header": header, "html": fig.html.render(),
            "script": fig.script.render(), "name": m.get_name()}
