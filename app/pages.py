"""HTML pages: the phone-first finder and the planner."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from app.i18n import STRINGS, current_lang
from app.mapview import DISPLAY_CRS, TYPE_COLOURS, base_map, map_parts
from geo.coverage import DEFAULT_THRESHOLDS_M
from geo.query import K_MAX, QueryError, parse_int
from geo.schema import SERVES, STATION_TYPES

bp = Blueprint("pages", __name__)
FILTER_AMENITIES = ("water", "microwave", "charging", "toilet", "ac")


def _cached_map(key: str, build) -> dict[str, str]:
    """Rendered folium parts, built once per configuration: they never change at run time."""
    cache = current_app.extensions.setdefault("map_cache", {})
    if key not in cache:
        cache[key] = map_parts(build())
    return cache[key]


@bp.get("/")
def finder():
    """The courier's page: map, filters, nearest list with navigation buttons."""
    atlas = current_app.extensions["atlas"]
    tiles = current_app.config["STATIONS_TILES"]
    lang = current_lang()
    parts = _cached_map(f"finder-{tiles}", lambda: base_map(atlas, tiles))
    try:
        k = parse_int("k", request.args.get("k"), 1, K_MAX, 5)
    except QueryError:
        k = 5  # a page never fails on a bad parameter; the API says what is wrong
    cfg = {"lang": lang, "t": STRINGS[lang], "map": parts["name"],
           "crs": DISPLAY_CRS[tiles], "colours": TYPE_COLOURS, "k": k,
           "api": {"nearest": url_for("api.nearest"), "stations": url_for("api.stations")}}
    return render_template("finder.html", page="finder", t=STRINGS[lang], lang=lang, map=parts,
                           cfg=cfg, sample=atlas.is_sample, types=STATION_TYPES,
                           amenities=FILTER_AMENITIES, colours=TYPE_COLOURS,
                           other_lang="en" if lang == "zh" else "zh")


@bp.get("/planner")
def planner():
    """The planner's page: coverage choropleth, ranked gaps, hourly curve, downloads."""
    atlas = current_app.extensions["atlas"]
    tiles = current_app.config["STATIONS_TILES"]
    lang = current_lang()
    parts = _cached_map(f"planner-{tiles}", lambda: base_map(atlas, tiles, zoom=10,
                                                            centre=(31.15, 121.45)))
    cfg = {"lang": lang, "t": STRINGS[lang], "map": parts["name"],
           "districts": parts["districts"], "crs": DISPLAY_CRS[tiles],
           "thresholds": DEFAULT_THRESHOLDS_M, "serves": SERVES, "cell_zoom": 14,
           "api": {"coverage": url_for("coverage_api.coverage"),
                   "hourly": url_for("coverage_api.hourly"),
                   "gaps": url_for("coverage_api.gaps"),
                   "cells": url_for("coverage_api.cells")}}
    return render_template("planner.html", page="planner", t=STRINGS[lang], lang=lang,
                           map=parts, cfg=cfg, sample=atlas.is_sample, types=STATION_TYPES,
                           amenities=FILTER_AMENITIES, thresholds=DEFAULT_THRESHOLDS_M,
                           days=STRINGS[lang]["days"].split(","),
                           other_lang="en" if lang == "zh" else "zh")
