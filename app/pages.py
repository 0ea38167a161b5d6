"""HTML pages: the phone-first finder and the planner (full pages and their embeds share these)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from app import current_atlas
from app.i18n import STRINGS, current_lang
from app.mapview import DISPLAY_CRS, TYPE_COLOURS, base_map, map_parts
from geo.coverage import DEFAULT_THRESHOLDS_M
from geo.plan import K_MAX as PLAN_K_MAX
from geo.query import K_MAX, THRESHOLD_RANGE_M, QueryError, parse_int
from geo.schema import SERVES, STATION_TYPES
from geo.zones import DEFAULT_MIN_DENSITY

bp = Blueprint("pages", __name__)
FILTER_AMENITIES = ("water", "microwave", "charging", "toilet", "ac")
PLANNER_LIMITS = {"threshold": THRESHOLD_RANGE_M, "k_max": PLAN_K_MAX}  # the API's, for the page


def cached_map(key: str, build) -> dict[str, str]:
    """Rendered folium parts, built once per configuration: they never change at run time."""
    cache = current_app.extensions.setdefault("map_cache", {})
    if key not in cache:
        cache[key] = map_parts(build())
    return cache[key]


def common(lang: str, tiles: str) -> dict:
    """Template values every page needs."""
    atlas = current_atlas()
    return {"t": STRINGS[lang], "lang": lang, "sample": atlas.is_sample, "types": STATION_TYPES,
            "modes": sorted(atlas.networks),
            "amenities": FILTER_AMENITIES, "colours": TYPE_COLOURS, "tiles": tiles,
            "other_lang": "en" if lang == "zh" else "zh"}


def render_finder(*, lang: str, tiles: str, k: int = 5, embed: bool = False,
                  view: dict | None = None, origin: dict | None = None,
                  filters: dict | None = None) -> str:
    """The finder, as a full page or as a minimal-chrome embed."""
    atlas = current_atlas()
    parts = cached_map(f"finder-{tiles}", lambda: base_map(atlas, tiles))
    cfg = {"lang": lang, "t": STRINGS[lang], "map": parts["name"], "crs": DISPLAY_CRS[tiles],
           "colours": TYPE_COLOURS, "k": k, "view": view, "origin": origin, "embed": embed,
           "modes": sorted(atlas.networks),
           "api": {"nearest": url_for("api.nearest"), "stations": url_for("api.stations")},
           "embed_url": url_for("embeds.finder", _external=True)}
    filters = filters or {"type": None, "amenities": (), "time": "now"}
    return render_template("finder.html", page="finder", map=parts, cfg=cfg, embed=embed,
                           filters=filters, **common(lang, tiles))


def render_planner(*, lang: str, tiles: str, embed: bool = False, **extra) -> str:
    """The planner page, or the coverage embed (map, legend, gaps) with `embed=True`."""
    atlas = current_atlas()
    parts = cached_map(f"planner-{tiles}", lambda: base_map(atlas, tiles, zoom=10,
                                                           centre=(31.15, 121.45)))
    cfg = {"lang": lang, "t": STRINGS[lang], "map": parts["name"],
           "districts": parts["districts"], "crs": DISPLAY_CRS[tiles],
           "thresholds": DEFAULT_THRESHOLDS_M, "densities": DEFAULT_MIN_DENSITY,
           "limits": PLANNER_LIMITS, "colours": TYPE_COLOURS,
           "serves": SERVES, "cell_zoom": 14, "cluster_zoom": 14,
           "modes": sorted(atlas.networks),
           "embed_url": url_for("embeds.coverage", _external=True),
           "api": {"coverage": url_for("coverage_api.coverage"),
                   "hourly": url_for("coverage_api.hourly"),
                   "gaps": url_for("coverage_api.gaps"),
                   "cells": url_for("coverage_api.cells"),
                   "areas": url_for("coverage_api.service_areas"),
                   "stations": url_for("api.stations"), "plan": url_for("planner_api.plan"),
                   "scenario": url_for("planner_api.scenario")}, **extra}
    template = "embed_coverage.html" if embed else "planner.html"
    return render_template(template, page="planner", map=parts, cfg=cfg, embed=embed,
                           thresholds=DEFAULT_THRESHOLDS_M, densities=DEFAULT_MIN_DENSITY,
                           limits=PLANNER_LIMITS,
                           days=STRINGS[lang]["days"].split(","), **common(lang, tiles))


@bp.get("/")
def finder():
    """The courier's page: map, filters, nearest list with navigation buttons."""
    try:
        k = parse_int("k", request.args.get("k"), 1, K_MAX, 5)
    except QueryError:
        k = 5  # a page never fails on a bad parameter; the API says what is wrong
    return render_finder(lang=current_lang(), tiles=current_app.config["STATIONS_TILES"], k=k)


@bp.get("/planner")
def planner():
    """The planner's page: coverage choropleth, ranked gaps, hourly curve, downloads."""
    return render_planner(lang=current_lang(), tiles=current_app.config["STATIONS_TILES"])
