"""HTML pages: the phone-first finder and the planner (full pages and their embeds share these)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, send_file, url_for

from app.api.stations import pack_version
from app.i18n import STRINGS, current_lang, other_lang
from app.mapview import (
    DISPLAY_CRS,
    DISTRICT_STYLE,
    PLANNER_VIEW,
    SHARE_STOPS,
    TYPE_COLOURS,
    base_map,
    map_parts,
)
from app.pages.finder_state import FinderState, parse_state
from app.state import current_atlas
from geo.analysis.coverage import REFERENCE_MONDAY
from geo.analysis.plan import K_MAX as PLAN_K_MAX
from geo.analysis.schedule import MAX_BUDGET_HOURS
from geo.analysis.zones import DEFAULT_MIN_DENSITY
from geo.coords import CRS_NAMES
from geo.finder.answer import EBIKE_KMH, FAR_M, WALK_KMH
from geo.hours import utc_offset_min
from geo.index.nearest import K_DEFAULT
from geo.navigation import link_constants
from geo.questions import DEFAULT_THRESHOLDS_M, K_MAX, THRESHOLD_RANGE_M
from geo.reports.db import REPORT_KINDS
from geo.reports.parse import NOTE_MAX
from geo.schema import AMENITIES, SEGMENTS, SERVES, STATION_TYPES

bp = Blueprint("pages", __name__)
# The finder's scripts in load order: the template loads them, the service worker caches them
FINDER_SCRIPTS = ("vendor/geographiclib-geodesic-2.2.0/geographiclib-geodesic.min.js",
                  "common.js", "station_pack.js", "station_card.js", "search_box.js",
                  "station_feedback.js", "finder.js")
PAGE_ONLY_SCRIPTS = ("search_box.js", "station_feedback.js")  # not in the embed
FOLLOW_MS = 5000  # follow mode asks again at most this often (a courier moves ~60 m by e-bike)
COMMON_AMENITIES = ("water", "microwave", "charging", "toilet", "ac")  # the rest behind "more"
PLANNER_LIMITS = {"threshold": THRESHOLD_RANGE_M, "k_max": PLAN_K_MAX,  # the API's, for the page
                  "budget_max": MAX_BUDGET_HOURS}


@bp.app_context_processor
def _lang_url() -> dict:
    """`lang_url('en')`: this page with every parameter kept and the language switched."""
    def lang_url(lang: str) -> str:
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
        return request.path + "?" + urlencode([*args, ("lang", lang)])
    return {"lang_url": lang_url}


def cached_map(key: str, build) -> dict[str, str]:
    """Rendered folium parts, built once per configuration: they never change at run time."""
    cache = current_app.extensions.setdefault("map_cache", {})
    if key not in cache:
        cache[key] = map_parts(build())
    return cache[key]


# which string names the sample parts of the data (see Atlas.sample_parts)
SAMPLE_NOTES = {("stations", "demand"): "sample", ("stations",): "sample_stations",
                ("demand",): "sample_demand", (): "sample"}


def common(lang: str, tiles: str) -> dict:
    """Template values every page needs."""
    atlas = current_atlas()
    parts = atlas.sample_parts()
    return {"t": STRINGS[lang], "data_date": atlas.data_date, "lang": lang,
            "sample": bool(parts), "sample_note": SAMPLE_NOTES[tuple(parts)],
            "types": STATION_TYPES, "modes": sorted(atlas.networks),
            "amenities": AMENITIES, "common_amenities": COMMON_AMENITIES,
            "colours": TYPE_COLOURS, "share_stops": SHARE_STOPS, "tiles": tiles,
            "other_lang": other_lang(lang),
            "national": "national" in current_app.extensions}


def map_cfg(tiles: str) -> dict:
    """What every map page's script needs: datum, colours, and the districts as a cached file."""
    atlas = current_atlas()
    return {"crs": DISPLAY_CRS[tiles], "colours": TYPE_COLOURS, "district_style": DISTRICT_STYLE,
            "share_stops": SHARE_STOPS, "utc_offset_min": utc_offset_min(atlas.timezone),
            "districts_url": url_for("api.districts", out_crs=DISPLAY_CRS[tiles], display="1",
                                     v=atlas.version)}


def render_finder(*, lang: str, tiles: str, state: FinderState, embed: bool = False) -> str:
    """The finder, as a full page or as a minimal-chrome embed, in the state its URL gave."""
    atlas = current_atlas()
    parts = cached_map(f"finder-{tiles}", lambda: base_map(tiles))
    t = STRINGS[lang]
    crs = DISPLAY_CRS[tiles]
    cfg = {"lang": lang, "t": t, "map": parts["name"], **map_cfg(tiles), "k": state.k,
           "k_default": K_DEFAULT, "k_max": K_MAX, "view": state.view, "origin": state.origin,
           "embed": embed,
           "filters": state.filters, "station": state.station,
           "notes": [t[key].format(**vals, n=state.k) for key, vals in state.notes],
           "modes": sorted(atlas.networks), "speeds": {"walk": WALK_KMH, "ebike": EBIKE_KMH},
           "far_m": FAR_M, "tiles": tiles, "follow_ms": FOLLOW_MS,
           "nav": link_constants(lang, atlas.region),
           "api": {"nearest": url_for("api.nearest"), "search": url_for("search_api.search"),
                   "pack": url_for("api.pack", out_crs=crs, v=pack_version(atlas)),
                   "stations": url_for("api.stations")},
           "amenities": AMENITIES, "reports": {"kinds": REPORT_KINDS, "note_max": NOTE_MAX},
           "sw": url_for("offline.service_worker"),
           "embed_url": url_for("embeds.finder", _external=True)}
    return render_template("finder.html", page="finder", map=parts, cfg=cfg, embed=embed,
                           filters=state.filters, notes=cfg["notes"], scripts=FINDER_SCRIPTS,
                           page_only_scripts=PAGE_ONLY_SCRIPTS, **common(lang, tiles))


def render_planner(*, lang: str, tiles: str, embed: bool = False, **extra) -> str:
    """The planner page, or the coverage embed (map, legend, gaps) with `embed=True`."""
    atlas = current_atlas()
    parts = cached_map(f"planner-{tiles}", lambda: base_map(tiles, **PLANNER_VIEW))
    cfg = {"lang": lang, "t": STRINGS[lang], "map": parts["name"], **map_cfg(tiles),
           "thresholds": DEFAULT_THRESHOLDS_M, "densities": DEFAULT_MIN_DENSITY,
           "limits": PLANNER_LIMITS,
           "serves": SERVES, "cell_zoom": 14, "cluster_zoom": 14,
           "reference_monday": REFERENCE_MONDAY.isoformat(),
           "modes": sorted(atlas.networks),
           "embed_url": url_for("embeds.coverage", _external=True),
           "api": {"coverage": url_for("coverage_api.coverage"),
                   "hourly": url_for("coverage_api.hourly"),
                   "gaps": url_for("coverage_api.gaps"),
                   "cells": url_for("coverage_api.cells"),
                   "areas": url_for("coverage_api.service_areas"),
                   "stations": url_for("api.stations"), "plan": url_for("planner_api.plan"),
                   "scenario": url_for("planner_api.scenario"),
                   "schedule": url_for("schedule_api.schedule"),
                   "quality": url_for("reports_api.quality")}, **extra}
    template = "embed_coverage.html" if embed else "planner.html"
    return render_template(template, page="planner", map=parts, cfg=cfg, embed=embed,
                           thresholds=DEFAULT_THRESHOLDS_M, densities=DEFAULT_MIN_DENSITY,
                           limits=PLANNER_LIMITS,
                           days=STRINGS[lang]["days"].split(","), **common(lang, tiles))


@bp.get("/")
def finder():
    """The courier's page: map, search, bottom sheet with the nearest station's card and list."""
    tiles = current_app.config["STATIONS_TILES"]
    state = parse_state(request.args, tiles, lenient=True)  # a page never fails on a bad link
    return render_finder(lang=current_lang(), tiles=tiles, state=state)


@bp.get("/planner")
def planner():
    """The planner's page: coverage choropleth, ranked gaps, hourly curve, downloads."""
    return render_planner(lang=current_lang(), tiles=current_app.config["STATIONS_TILES"])


TEMPLATE_FILE = Path(__file__).resolve().parents[2] / "data" / "template" / "站点名单模板.xlsx"


@bp.get("/check")
def check():
    """A clerk's page to check a list before it is imported (nothing is written)."""
    lang, tiles = current_lang(), current_app.config["STATIONS_TILES"]
    parts = cached_map(f"check-{tiles}", lambda: base_map(tiles, **PLANNER_VIEW))
    cfg = {"lang": lang, "t": STRINGS[lang], "map": parts["name"], **map_cfg(tiles),
           "max_mb": current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
           "api": {"validate": url_for("validate_api.validate")}}
    return render_template("check.html", page="check", map=parts, cfg=cfg,
                           segments=SEGMENTS, crs_names=CRS_NAMES, **common(lang, tiles))


@bp.get("/template.xlsx")
def template_file():
    """The import template: the headers and one example row."""
    return send_file(TEMPLATE_FILE, as_attachment=True, download_name="站点名单模板.xlsx")
