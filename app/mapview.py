"""Folium maps for the pages: Leaflet from our static folder, districts as context, no CDN."""

from __future__ import annotations

import folium
from flask import url_for

from geo.atlas import Atlas
from geo.districts import display_geojson

CENTRE = (31.2304, 121.4737)  # People's Square
LEAFLET = "vendor/leaflet-1.9.3"
TILES = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>', None),
    "amap": ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
             "&x={x}&y={y}&z={z}", "&copy; 高德地图 AutoNavi", "1234"),
}
MAX_ZOOM = 19
DISPLAY_CRS = {"osm": "wgs84", "amap": "gcj02", "none": "wgs84"}
TYPE_COLOURS = {"relay": "#e8590c", "health": "#c2255c", "fitness": "#2b8a3e"}


def base_map(atlas: Atlas, tiles: str, zoom: int = 11,
             centre: tuple[float, float] = CENTRE) -> folium.Map:
    """A Leaflet map with the district boundaries; every asset is served by this app."""
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
    # Only geometry and the numeric code go into the page: no data text reaches the script.
    layer = folium.GeoJson(display_geojson(atlas.districts, DISPLAY_CRS[tiles],
                                           fields=("code",)),
                           name="districts", control=False, interactive=False,
                           style_function=lambda _: {"color": "#5c6f82", "weight": 1.2,
                                                     "fillColor": "#dde6ee",
                                                     "fillOpacity": 0.25})
    layer.add_to(m)
    m.districts_layer = layer.get_name()
    return m


def map_parts(m: folium.Map) -> dict[str, str]:
    """The map's head links/styles, its div and its script, to place in our own template."""
    fig = m.get_root()
    fig.render()
    return {"header": fig.header.render(), "html": fig.html.render(),
            "script": fig.script.render(), "name": m.get_name(),
            "districts": getattr(m, "districts_layer", "")}
