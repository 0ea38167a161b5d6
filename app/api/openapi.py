"""The OpenAPI 3.0 description of the JSON API, served at /api/openapi.json."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, url_for

from app.api.stations import FIELDS_PATTERN
from app.api.validate import KINDS
from app.i18n import LANGS
from app.state import current_atlas
from geo.analysis.access import DECAYS, MAX_PER_SEAT_RANGE
from geo.analysis.demand_spread import MODES, WEIGHTS
from geo.analysis.plan import K_DEFAULT as PLAN_K_DEFAULT
from geo.analysis.plan import K_MAX as PLAN_K_MAX
from geo.analysis.schedule import MAX_BUDGET_HOURS
from geo.analysis.zones import DEFAULT_MIN_DENSITY, GROUPS
from geo.coords import CRS_NAMES
from geo.finder.typed_point import MAX_TEXT
from geo.hours import WEEKDAY_ABBRS, WEEKDAYS
from geo.index.coverage_sets import MAX_PAIRS
from geo.index.nearest import K_DEFAULT
from geo.io.export import FORMATS
from geo.questions import (
    DEFAULT_THRESHOLDS_M,
    DISTANCE_MODES,
    K_MAX,
    MIN_DENSITY_MAX,
    THRESHOLD_RANGE_M,
    TIME_PATTERN,
)
from geo.reports.db import REPORT_KINDS
from geo.reports.parse import DAYS_MAX, DEVICE_PATTERN, NOTE_MAX
from geo.schema import AMENITIES, SEGMENTS, STATION_TYPES, by_type

bp = Blueprint("openapi", __name__, url_prefix="/api")


def _q(name: str, description: str, schema: dict, required: bool = False,
       repeat: bool = False) -> dict:
    """One query parameter."""
    if repeat:
        schema = {"type": "array", "items": schema}
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema, **({"explode": True} if repeat else {})}


def _n(schema: dict) -> dict:
    """Nullable."""
    return {**schema, "nullable": True}


TYPE = _q("type", "Station type.", {"type": "string", "enum": list(STATION_TYPES)})
AMENITY = _q("amenity", "Required amenity (repeat, or comma-separate).",
             {"type": "string", "enum": list(AMENITIES)}, repeat=True)
TIME = {"type": "string", "pattern": TIME_PATTERN, "example": "2026-11-24T21:00"}
TEXT = {"type": "string", "pattern": r"\S"}  # free text: something besides spaces
WEEKDAY_PATTERN = f"^([0-6]|{'|'.join(WEEKDAYS + WEEKDAY_ABBRS)})$"
CLOCK_HOUR = "^([01]?[0-9]|2[0-4])(:00)?$"
OPEN_AT = _q("open_at", "Only stations open then: ISO time (Shanghai time if naive, years "
             "2000-2099) or 'now'.", TIME)
AT = _q("at", "Count only stations open then: ISO time or 'now'.", TIME)
OUT_CRS = _q("out_crs", "Datum of output coordinates, for drawing on Chinese base maps.",
             {"type": "string", "enum": list(CRS_NAMES), "default": "wgs84"})
CRS = _q("crs", "Datum of lat/lng.", {"type": "string", "enum": list(CRS_NAMES),
                                      "default": "wgs84"})
MODE = _q("mode", "Distance: straight line, or along a street network. walk and bike need "
               "that mode's graph loaded by the server (STATIONS_GRAPH_WALK / _BIKE); this "
               "document lists only the modes this server has loaded, and any other is a 400 "
               "naming `mode`.",
          {"type": "string", "enum": list(DISTANCE_MODES), "default": "straight"})
THRESHOLD = _q("threshold_m", "Service distance in metres (default: "
               f"{by_type(DEFAULT_THRESHOLDS_M)}). Answers built on site-cell pairs (gap zones "
               "and their cells, plans, load) refuse, as a 400 naming threshold_m, a question "
               f"that pairs more than {MAX_PAIRS:,} sites and cells within it.",
               {"type": "number", "minimum": THRESHOLD_RANGE_M[0],
                "maximum": THRESHOLD_RANGE_M[1]})
BBOX = {**_q("bbox", "min_lng,min_lat,max_lng,max_lat (WGS-84); corners in either order, "
                   "latitudes past a pole clipped to it.",
             {"type": "array", "items": {"type": "number", "minimum": -180, "maximum": 180},
              "minItems": 4, "maxItems": 4}), "style": "form", "explode": False}
COVERAGE = [TYPE, THRESHOLD, AT, AMENITY, MODE]
MIN_DENSITY = _q("min_density", "Workers per km2 below which uncovered cells form no zone "
                 f"(default: {by_type(DEFAULT_MIN_DENSITY)}).",
                 {"type": "number", "minimum": 0, "maximum": MIN_DENSITY_MAX})
PLAN = [*COVERAGE, MIN_DENSITY,
        _q("k", "How many sites.", {"type": "integer", "minimum": 1, "maximum": PLAN_K_MAX,
                                    "default": PLAN_K_DEFAULT}),
        _q("candidates", "cells: every demand-cell centre; extend_hours: stations closed at "
                         "`at` (needs at).", {"type": "string",
                                              "enum": ["cells", "extend_hours"]}),
        _q("exact", "1: exact MIP (HiGHS, time-limited: STATIONS_MIP_SECONDS, default 60) "
                    "instead of greedy.",
           {"type": "string", "enum": ["0", "1", "true", "false"]}),
        _q("format", "json (default); geojson or csv downloads the sites.",
           {"type": "string", "enum": ["json", "geojson", "csv"]}), OUT_CRS]
PLAN_BODY = {"type": "object", "properties": {  # null: the parameter's default
    **{p["name"]: _n(p["schema"]) for p in PLAN if p["name"] != "candidates"},
    "candidates": {"description": "cells, extend_hours, or a GeoJSON FeatureCollection of "
                                  "points (at most 20,000)",
                   "oneOf": [{"type": "string", "enum": ["cells", "extend_hours"]},
                             {"type": "object"}]}}}
SCENARIO_BODY = {"type": "object", "properties": {  # null: the member's default, as absent
    **{p["name"]: _n(p["schema"]) for p in [*COVERAGE, MIN_DENSITY]},
    "add": _n({"type": "array", "items": {"type": "array", "items": {"type": "number"},
                                          "minItems": 2, "maxItems": 2},
               "description": "New stations at [lng, lat] (WGS-84), open 24/7."}),
    "remove": _n({"type": "array", "items": {"type": "string"},
                  "description": "Station ids."}),
    "hours": _n({"type": "object", "additionalProperties": {"type": "string"},
                 "description": "Station id -> new opening_hours, e.g. 24/7."}),
    "crs": _n({**CRS["schema"], "description": "Datum of the `add` points."}),
    "out_crs": _n({**OUT_CRS["schema"], "description": "Datum of the returned gap zones "
                                                       "(simplified for drawing unless "
                                                       "wgs84)."})}}

STR, NUM, INT = {"type": "string"}, {"type": "number"}, {"type": "integer"}
POINT = {"type": "object", "required": ["type", "coordinates"], "properties": {
    "type": {"type": "string", "enum": ["Point"]},
    "coordinates": {"type": "array", "items": NUM, "minItems": 2, "maxItems": 2}}}
STATION_PROPS = {
    "id": {"type": "string", "pattern": "^[A-Za-z0-9._-]+$"}, "name": STR,
    "type": {"type": "string", "enum": list(STATION_TYPES)}, "district": STR,
    "district_code": {"type": "string", "pattern": "^[0-9]{6}$"}, "address": _n(STR),
    "host": _n(STR), "opening_hours": STR,
    "amenities": {"type": "array", "items": {"type": "string", "enum": list(AMENITIES)}},
    "phone": _n(STR), "capacity": _n({"type": "integer", "minimum": 0}), "source": _n(STR)}
NEAREST_PROPS = {
    **STATION_PROPS, "distance_m": {"type": "number", "minimum": 0},
    "bearing_deg": {"type": "number", "minimum": 0, "maximum": 360},
    "walk_min": {"type": "number", "minimum": 0}, "ebike_min": {"type": "number", "minimum": 0},
    "open": {"type": "boolean"}, "closes_at": _n(STR), "opens_at": _n(STR),
    "nav": {"type": "object", "required": ["amap", "amap_walk", "baidu", "baidu_walk"],
            "properties": {k: {"type": "string", "format": "uri"}
                           for k in ("amap", "amap_walk", "baidu", "baidu_walk")}},
    "route": _n({"type": "object"})}


AREA = {"type": "object", "required": ["type", "coordinates"], "properties": {
    "type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
    "coordinates": {"type": "array", "items": {"type": "array"}}}}


def _feature(props: dict, required: list[str], geometry: dict = POINT,
             with_id: bool = True) -> dict:
    return {"type": "object",
            "required": ["type", *(["id"] if with_id else []), "geometry", "properties"],
            "properties": {"type": {"type": "string", "enum": ["Feature"]}, "id": STR,
                           "geometry": geometry,
                           "properties": {"type": "object", "required": required,
                                          "properties": props}}}


def _collection(feature: dict, **top: dict) -> dict:
    return {"type": "object", "required": ["type", "features", *top],
            "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                           "features": {"type": "array", "items": feature}, **top}}


STATIONS_FC = _collection(_feature(STATION_PROPS, []), sample={"type": "boolean"},
                          count=INT)
NEAREST_FC = _collection(
    _feature(NEAREST_PROPS, ["id", "name", "type", "distance_m", "open", "nav"]),
    distance_kind={"type": "string", "enum": ["straight", "network"]},
    origin={"type": "array", "items": NUM, "minItems": 2, "maxItems": 2},
    at=STR, sample={"type": "boolean"})
SUMMARY = {"type": "object", "required": ["workers", "covered", "uncovered", "share_covered"],
           "properties": {"workers": {"type": "integer", "minimum": 0},
                          "covered": {"type": "integer", "minimum": 0},
                          "uncovered": {"type": "integer", "minimum": 0},
                          "share_covered": _n({"type": "number", "minimum": 0, "maximum": 1}),
                          "mean_distance_m": _n(NUM), "p90_distance_m": _n(NUM),
                          "stations_usable": INT}}
COVERAGE_OUT = {"type": "object", "required": ["summary", "districts"], "properties": {
    "summary": SUMMARY, "districts": {"type": "array", "items": {
        "type": "object", "required": ["code", "workers", "covered", "share_covered"],
        "properties": {"code": {"type": "string", "pattern": "^[0-9]{6}$"},
                       "workers": INT, "covered": INT, "share_covered": _n(NUM)}}}}}
HOURLY_OUT = {"type": "object", "required": ["hours", "workers"], "properties": {
    "workers": INT, "hours": {"type": "array", "minItems": 24, "maxItems": 24, "items": {
        "type": "object",
        "required": ["hour", "workers_present", "covered", "share_covered"],
        "properties": {"hour": {"type": "integer", "minimum": 0, "maximum": 23},
                       "workers_present": INT, "covered": INT, "share_covered": _n(NUM)}}}}}
WEEKDAY = _q("weekday", "0-6 (Monday = 0), mo..su or mon..sun.",
             {"type": "string", "pattern": WEEKDAY_PATTERN})
WORKER_HOURS = {"type": "object",
                "required": ["worker_hours", "covered_worker_hours", "share"],
                "properties": {"worker_hours": INT, "covered_worker_hours": INT,
                               "share": _n(NUM)}}
DAY_OUT = {**WORKER_HOURS, "required": [*WORKER_HOURS["required"], "segments"],
           "properties": {**WORKER_HOURS["properties"], "weekday": INT,
                          "segments": {"type": "object", "additionalProperties": WORKER_HOURS}}}


SPEC = {"type": "object", "required": ["type", "threshold_m", "mode", "at", "amenities"],
        "properties": {"type": {"type": "string", "enum": list(STATION_TYPES)},
                       "threshold_m": NUM, "distance_kind": STR, "mode": STR, "at": _n(STR),
                       "amenities": {"type": "array", "items": STR}}}
FULL_SUMMARY = {**SUMMARY, "properties": {**SUMMARY["properties"], **SPEC["properties"],
                                          "cells": INT, "unreachable_workers": INT}}
ZONE_PROPS = {"rank": INT, "workers": INT, "cells": INT, "area_km2": NUM,
              "site": {"type": "array", "items": NUM}, "max_distance_m": _n(NUM),
              "districts": {"type": "array", "items": STR}, "nearest_station_m": _n(NUM)}
ZONES = _collection(_feature(ZONE_PROPS, ["rank", "workers", "cells"], AREA, with_id=False),
                    total_zones=INT)
GAPS_SUMMARY = {**FULL_SUMMARY,
                "required": [*FULL_SUMMARY["required"], "uncovered_in_zones",
                             "uncovered_below_floor"],
                "properties": {**FULL_SUMMARY["properties"], "uncovered_in_zones": INT,
                               "uncovered_below_floor": INT, "uncovered_unreached": INT}}
GAPS_OUT = {**ZONES, "required": [*ZONES["required"], "summary", "sample"],
            "properties": {**ZONES["properties"], "summary": GAPS_SUMMARY,
                           "sample": {"type": "boolean"}, "group": STR,
                           "min_density": NUM}}
CELLS_OUT = _collection(_feature(
    {"h3": {"type": "string", "pattern": "^[0-9a-f]{15}$"}, "workers": INT,
     "distance_m": _n(NUM), "covered": {"type": "boolean"}, "access": _n(NUM)},
    ["h3", "workers", "covered"], AREA), count=INT, sample={"type": "boolean"})
DISTRICTS_OUT = _collection(_feature(
    {"code": {"type": "string", "pattern": "^[0-9]{6}$"}, "name": STR, "name_en": STR,
     "area_km2": NUM}, ["code"], AREA))
AREAS_OUT = _collection(_feature({"id": STR}, [], AREA, with_id=False))
ACCESS_OUT = _collection(_feature(
    {"id": STR, "name": STR, "district": _n(STR), "capacity": _n(NUM),
     "workers_in_reach": NUM, "workers_per_seat": _n(NUM), "supply_ratio": _n(NUM),
     "overloaded": {"type": "boolean"}}, ["id", "workers_in_reach", "overloaded"]),
    spec=SPEC, summary={"type": "object", "required": ["stations", "overloaded"],
                        "properties": {"stations": INT, "overloaded": INT}})
CURVE = {"type": "array", "items": {"type": "object", "required": ["k", "covered"],
                                    "properties": {"k": INT, "covered": INT, "share": NUM}}}
SITES = _collection(_feature({"rank": INT, "gain": INT, "covered": INT, "share": NUM},
                             ["rank", "gain"], with_id=False))
PLAN_OUT = {"type": "object", "required": ["spec", "candidates", "curve", "before", "after",
                                           "solver", "sites", "sample"],
            "properties": {"spec": SPEC, "candidates": STR, "curve": CURVE,
                           "before": FULL_SUMMARY, "after": FULL_SUMMARY,
                           "solver": {"type": "object", "required": ["method"]},
                           "sites": SITES,
                           "sample": {"type": "boolean"}}}
SCHEDULE = [*[p for p in COVERAGE if p["name"] != "at"], WEEKDAY,
            _q("budget_hours", "Station-hours to add over the day.",
               {"type": "integer", "minimum": 1, "maximum": MAX_BUDGET_HOURS, "default": 100}),
            _q("earliest", "No station opens before this hour (HH:00; before `latest`).",
               {"type": "string", "pattern": CLOCK_HOUR, "default": "00:00"}),
            _q("latest", "No station stays open past this hour (HH:00, 24:00 = midnight).",
               {"type": "string", "pattern": CLOCK_HOUR, "default": "24:00"}),
            _q("step", "Hours are added in whole steps of this many.",
               {"type": "integer", "minimum": 1, "maximum": 12, "default": 1}),
            _q("exact", "1: exact MIP (HiGHS, time-limited: STATIONS_MIP_SECONDS) after the "
                        "greedy.", {"type": "string", "enum": ["0", "1"]}),
            _q("format", "json (default); csv downloads the whole station list with the new "
                         "hours, in the import template's layout (stations import reads it).",
               {"type": "string", "enum": ["json", "csv"]})]
HOUR_ROWS = {"type": "array", "minItems": 24, "maxItems": 24, "items": {
    "type": "object", "required": ["hour", "workers_present", "covered", "share_covered"],
    "properties": {"hour": INT, "workers_present": INT, "covered": INT,
                   "share_covered": _n(NUM)}}}
SCHEDULE_OUT = {"type": "object", "required": [
    "weekday", "budget_hours", "added_hours", "worker_hours", "covered_worker_hours",
    "gain_worker_hours", "stations", "curve", "before", "after", "solver", "keep_open_24_7",
    "sample"], "properties": {
    "weekday": INT, "budget_hours": INT, "added_hours": INT, "worker_hours": INT,
    "gain_worker_hours": INT,
    "covered_worker_hours": {"type": "object", "required": ["before", "after"],
                             "properties": {"before": INT, "after": INT}},
    "stations": {"type": "array", "items": {
        "type": "object", "required": ["station_id", "hours_before", "hours_after",
                                       "added_hours", "gain_worker_hours"],
        "properties": {"station_id": STR, "name": STR, "hours_before": STR,
                       "hours_after": STR, "added_hours": INT, "gain_worker_hours": INT}}},
    "curve": {"type": "array", "items": {
        "type": "object", "required": ["budget_hours", "covered_worker_hours"],
        "properties": {"budget_hours": INT, "covered_worker_hours": INT}}},
    "before": HOUR_ROWS, "after": HOUR_ROWS,
    "solver": {"type": "object", "required": ["method", "optimal", "gap", "seconds"],
               "properties": {"method": STR, "optimal": {"type": "boolean"},
                              "gap": _n(NUM), "seconds": NUM}},
    "keep_open_24_7": {"type": "object", "required": ["stations", "hours",
                                                      "gain_worker_hours"],
                       "properties": {"stations": {"type": "array", "items": STR},
                                      "hours": INT, "gain_worker_hours": INT}},
    "sample": {"type": "boolean"}}}
SCENARIO_OUT = {"type": "object", "required": ["spec", "before", "after", "delta", "districts",
                                               "gaps", "sample"],
                "properties": {"spec": SPEC, "before": FULL_SUMMARY, "after": FULL_SUMMARY,
                               "delta": {"type": "object", "required": ["covered"],
                                         "properties": {"covered": INT, "uncovered": INT}},
                               "districts": {"type": "array", "items": {
                                   "type": "object", "required": ["code", "delta"],
                                   "properties": {"code": STR, "delta": INT}}},
                               "gaps": ZONES, "sample": {"type": "boolean"}}}
SEARCH_OUT = {"type": "object", "required": ["query", "results", "note", "sample"],
              "properties": {"query": STR, "note": _n(STR), "credit": STR,
                             "sample": {"type": "boolean"},
                             "results": {"type": "array", "items": {
                                 "type": "object",
                                 "required": ["kind", "label", "lon", "lat", "x", "y"],
                                 "properties": {"kind": {"type": "string", "enum": [
                                     "coords", "link", "district", "place", "station"]},
                                     "label": STR, "detail": _n(STR), "lon": NUM,
                                     "lat": NUM, "x": NUM, "y": NUM, "id": STR,
                                     "crs": STR}}}}}
PACK_OUT = {"type": "object", "required": ["start", "days", "sample", "crs", "hours",
                                           "stations"],
            "properties": {"start": STR, "days": INT, "week_start": STR,
                           "sample": {"type": "boolean"}, "data_date": _n(STR), "crs": STR,
                           "types": {"type": "array", "items": STR},
                           "amenities": {"type": "array", "items": STR},
                           "hours": {"type": "array", "items": {
                               "type": "object", "required": ["expr", "open", "week"],
                               "properties": {"expr": STR, "open": {"type": "array"},
                                              "week": {"type": "array", "minItems": 7,
                                                       "maxItems": 7}}}},
                           "stations": {"type": "object", "required": ["id", "lon", "lat"],
                                        "additionalProperties": {"type": "array"}}}}
VALIDATE_OUT = {"type": "object", "required": ["ok", "rows", "errors", "warnings", "problems"],
                "properties": {"ok": {"type": "boolean"}, "rows": _n(INT), "errors": INT,
                               "kind": {"type": "string", "enum": list(KINDS)},
                               "demand": {"type": "object", "description": "kind=demand: "
                                          "totals read, placed and outside, the method, and "
                                          "each district before and after"},
                               "warnings": INT, "stations": {"type": "object"},
                               "problems": {"type": "array", "items": {
                                   "type": "object", "required": ["level", "row", "reason"],
                                   "properties": {"level": {"type": "string", "enum": [
                                       "error", "warning"]}, "row": _n(INT),
                                       "reason": STR, "hint": _n(STR), "code": _n(STR)}}},
                               "points": {"type": "array"}}}


COUNT = {"type": "integer", "minimum": 0}
QUALITY_PROPS = {
    **{k: STATION_PROPS[k] for k in ("id", "name", "type", "district", "opening_hours")},
    "checkins_7d": COUNT, "checkins_30d": COUNT,
    "reports": {"type": "object", "required": list(REPORT_KINDS),
                "properties": {k: COUNT for k in REPORT_KINDS},
                "description": "Unresolved reports in the window, by kind."},
    "closed_reports_in_hours": COUNT, "flagged": {"type": "boolean"},
    "last_checkin": _n({"type": "string", "description": "UTC, ISO 8601."}),
    "notes": {"type": "array", "description": "Notes a moderator approved, newest first.",
              "items": {"type": "object", "required": ["kind", "text", "at"],
                        "properties": {"kind": STR, "text": STR, "at": STR}}}}
QUALITY_FEATURE = _feature(QUALITY_PROPS, list(QUALITY_PROPS))
QUALITY_TOP = {"days": COUNT, "rule": STR, "generated_at": STR, "sample": {"type": "boolean"}}
QUALITY_FC = _collection(QUALITY_FEATURE, **QUALITY_TOP)
QUALITY_ONE = {**QUALITY_FEATURE, "properties": {**QUALITY_FEATURE["properties"],
                                                 **QUALITY_TOP}}
DAYS = _q("days", "The window in days (default 30).",
          {"type": "integer", "minimum": 1, "maximum": DAYS_MAX, "default": 30})
DEVICE = {"type": "string", "pattern": DEVICE_PATTERN,
          "description": "A random id the page keeps (rate limits and dedupe); stored hashed."}
STATION_ID = {"name": "station_id", "in": "path", "required": True, "schema": {"type": "string"}}
WRITTEN = {"type": "object", "required": ["id"], "properties": {
    "id": {"type": "integer"}, "duplicate": {"type": "boolean"}}}
CHECKIN_BODY = {"type": "object", "required": ["device"], "properties": {"device": DEVICE}}
REPORT_BODY = {"type": "object", "required": ["kind", "device"], "properties": {
    "kind": {"type": "string", "enum": list(REPORT_KINDS)},
    "amenity": _n({"type": "string", "enum": list(AMENITIES),
                   "description": "Required with, and only with, amenity_missing."}),
    "note": _n({"type": "string", "maxLength": NOTE_MAX,
                "description": "Plain text; public only once a moderator approves it."}),
    "device": DEVICE}}


def _write(summary: str, body: dict) -> dict:
    """A courier's POST: 201 when stored, 200 for a repeat within the hour."""
    limited = {**ERROR, "description": "Too many writes from this address or device: retry "
                                       "after `Retry-After` seconds.",
               "headers": {"Retry-After": {"schema": {"type": "integer"}}}}
    return {"post": {"summary": summary, "parameters": [STATION_ID],
                     "requestBody": {"required": True,
                                     "content": {"application/json": {"schema": body}}},
                     "responses": {"201": {"description": "Stored.", "content": {
                         "application/json": {"schema": WRITTEN}}},
                         "200": {"description": "The same device said this here within the "
                                                "hour: counted once.", "content": {
                             "application/json": {"schema": WRITTEN}}},
                         "400": ERROR, "413": ERROR, "429": limited}}}


def _ok(schema: dict, media: str = "application/json", also: dict | None = None,
        **downloads: str) -> dict:
    """A 200 answer with its schema, other JSON forms (`also`: media -> schema), and the
    download media types it may answer with."""
    content = {media: {"schema": schema}}
    content |= {m: {"schema": s} for m, s in (also or {}).items()}
    content |= {m: {"schema": {"type": "string", "format": "binary"}} for m in downloads.values()}
    return {"description": "OK", "content": content}


ERROR = {"description": "A bad parameter: `error` says what is wrong, `param` names it.",
         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
JSON = {"description": "JSON.", "content": {"application/json": {"schema": {"type": "object"}}}}


def _get(summary: str, params: list[dict], ok: dict, **extra) -> dict:
    """One GET operation with the usual error answer."""
    return {"get": {"summary": summary, "parameters": params,
                    "responses": {"200": ok, "400": ERROR, **extra}}}


def _district_names() -> list[str]:
    """What `district` takes: codes, Chinese and English names of the loaded districts."""
    d = current_atlas().districts
    return sorted({*d["code"], *d["name"], *d["name_en"]})


TOO_LONG = {**ERROR, "description": "The URL is longer than 4,096 characters."}
TOO_BUSY = {**ERROR, "description": "Too many heavy questions from this address (429) or "
                                    "on this server (503): retry after `Retry-After` seconds.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}}}


def _for_this_server(doc: dict) -> dict:
    """Modes whose graphs this server loaded (service areas only with one), and the answers
    every operation may give: 414 for a long URL, 429/503 on the heavy routes."""
    loaded = sorted(current_atlas().networks)
    heavy = current_app.extensions["heavy_paths"]
    if not loaded:
        doc["paths"].pop("/api/service-areas")
    for path, ops in doc["paths"].items():
        for op in ops.values():
            modes = loaded if path == "/api/service-areas" else ["straight", *loaded]
            op["parameters"] = [
                {**p, "schema": {**p["schema"], "enum": modes},
                 "required": path == "/api/service-areas"} if p["name"] == "mode" else p
                for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body and "mode" in body["schema"]["properties"]:
                props = {**body["schema"]["properties"], "mode": _n(
                    {**MODE["schema"], "enum": modes})}
                body["schema"] = {**body["schema"], "properties": props}
            op["responses"] = {**op["responses"], "414": TOO_LONG,
                               **({"429": TOO_BUSY, "503": TOO_BUSY} if path in heavy else {})}
    return doc


def document() -> dict:
    """The whole description; paths are relative to the server root."""
    return _linked(_for_this_server({
        "openapi": "3.0.3",
        "info": {"title": "Shanghai worker-station locator and coverage planner",
                 "version": "0.1.0",
                 "description": "Stations run by Shanghai's trade unions for outdoor, office "
                                "and industrial workers. Answers say `sample: true` when the "
                                "dataset is the embedded sample."},
        "servers": [{"url": url_for("pages.finder", _external=True).rstrip("/")}],
        "paths": {
            "/api/stations": _get("Stations, filtered", [
                TYPE, _q("district", "Code (310101), Chinese or English name.",
                         {"type": "string", "enum": _district_names()}), AMENITY, OPEN_AT,
                BBOX, _q("fields", "Comma-separated properties to keep (small map layers).",
                         {"type": "string", "pattern": FIELDS_PATTERN}), OUT_CRS],
                _ok(STATIONS_FC, "application/geo+json")),
            "/api/stations/{station_id}": {"get": {
                "summary": "One station", "responses": {
                    "200": _ok(_feature(STATION_PROPS, ["id", "name", "type"]),
                               "application/geo+json"), "400": ERROR, "404": ERROR},
                "parameters": [{"name": "station_id", "in": "path", "required": True,
                                "schema": {"type": "string"}}, OUT_CRS]}},
            "/api/nearest": _get("The k nearest usable stations to a point", [
                _q("lat", "Latitude.", {"type": "number", "minimum": -90, "maximum": 90}, True),
                _q("lng", "Longitude.", {"type": "number", "minimum": -180, "maximum": 180},
                   True), CRS, TYPE,
                _q("k", "How many.", {"type": "integer", "minimum": 1, "maximum": K_MAX,
                                      "default": K_DEFAULT}), AMENITY, OPEN_AT, MODE, OUT_CRS,
                _q("lang", "Language of the start label in navigation links.",
                   {"type": "string", "enum": list(LANGS)})],
                _ok(NEAREST_FC, "application/geo+json")),
            "/api/search": _get("Find a place, district, station, typed coordinates (each datum "
                                "offered) or a pasted Amap / Baidu link", [
                _q("q", "What to find.", {**TEXT, "maxLength": MAX_TEXT}, True),
                _q("lang", "Label language.", {"type": "string", "enum": list(LANGS)}),
                OUT_CRS], _ok(SEARCH_OUT)),
            "/api/pack": _get("Every station with open spans for the next 14 days (offline use)",
                              [OUT_CRS, _q("v", "Pack version (cache key).", TEXT)],
                              _ok(PACK_OUT)),
            "/api/districts": _get("District boundaries", [
                OUT_CRS, _q("display", "1: codes only, simplified to ~100 m for map backgrounds "
                                       "(cached; add v=<data version> for a year).",
                            {"type": "string", "enum": ["0", "1"]}),
                _q("v", "Data version (cache key); any value is accepted.", TEXT)],
                _ok(DISTRICTS_OUT, "application/geo+json")),
            "/api/coverage": _get("Coverage summary and per-district table", [
                *COVERAGE, _q("format", "json, or csv to download the district table.",
                              {"type": "string", "enum": ["json", "csv"]})],
                _ok(COVERAGE_OUT, csv="text/csv")),
            "/api/coverage/hourly": _get("Coverage at each hour of a weekday", [
                *[p for p in COVERAGE if p["name"] != "at"],
                WEEKDAY],
                _ok(HOURLY_OUT)),
            "/api/schedule": _get("Which stations should open earlier or close later on a "
                                  "weekday, for a budget of added station-hours",
                                  SCHEDULE, _ok(SCHEDULE_OUT, csv="text/csv")),
            "/api/coverage/day": _get("A whole weekday in worker-hours: present and covered, "
                                      "in total and by segment", [
                *[p for p in COVERAGE if p["name"] != "at"],
                WEEKDAY],
                _ok(DAY_OUT)),
            "/api/gaps": _get("Ranked gap zones: station-sized (group=site) or connected", [
                *COVERAGE, MIN_DENSITY,
                _q("group", "site: the uncovered dense cells one new station would serve, "
                            "peeled greedily; connected: connected uncovered areas (overview).",
                   {"type": "string", "enum": list(GROUPS), "default": "site"}),
                _q("limit", "How many zones.", {"type": "integer", "minimum": 1,
                                                           "maximum": 5000, "default": 20}),
                _q("format", "Output format.", {"type": "string", "enum": list(FORMATS)}),
                _q("simplify", "1: lighter polygons for drawing (GeoJSON only).",
                   {"type": "string", "enum": ["0", "1"]}),
                _q("download", "1: send as an attachment.", {"type": "string",
                                                             "enum": ["0", "1"]}),
                OUT_CRS], _ok(GAPS_OUT, "application/geo+json", csv="text/csv",
                              gpkg="application/geopackage+sqlite3")),
            "/api/coverage/cells": _get("Demand cells in a box (at most 6,000)",
                                        [{**BBOX, "required": True}, *COVERAGE, OUT_CRS],
                                        _ok(CELLS_OUT, "application/geo+json")),
            "/api/service-areas": _get("Station catchments along the street network (needs a "
                                       "loaded graph: listed only when one is)",
                                       [*COVERAGE, OUT_CRS],
                                       _ok(AREAS_OUT, "application/geo+json")),
            "/api/plan": {**_get("Where to add k stations (or which closed stations to "
                                 "keep open): maximal covering", PLAN,
                                 _ok(PLAN_OUT, also={"application/geo+json": SITES},
                                     csv="text/csv")),
                          "post": {"summary": "The same, with candidate points uploaded",
                                   "requestBody": {"required": True, "content": {
                                       "application/json": {"schema": PLAN_BODY}}},
                                   "responses": {"200": _ok(PLAN_OUT, also={
                                       "application/geo+json": SITES}, csv="text/csv"),
                                       "400": ERROR, "413": ERROR}}},
            "/api/scenario": {"post": {
                "summary": "Coverage before and after adding, removing or re-timing stations",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": SCENARIO_BODY}}},
                "responses": {"200": _ok(SCENARIO_OUT), "400": ERROR, "413": ERROR}}},
            "/api/validate": {"post": {
                "summary": "Check a station list (CSV, XLSX, GeoJSON) as `stations import` "
                           "would, or a demand file (kind=demand, also GeoTIFF) as `stations "
                           "demand import --dry-run` would; writes nothing",
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"type": "object", "required": ["file"], "properties": {
                        "file": {"type": "string", "format": "binary",
                                 "description": "At most 10 MB."},
                        "kind": {"type": "string", "enum": list(KINDS),
                                 "default": "stations"},
                        "type": {"type": "string", "enum": list(STATION_TYPES)},
                        "segment": {"type": "string", "enum": list(SEGMENTS)},
                        "mode": {"type": "string", "enum": list(MODES)},
                        "weight_by": {"type": "string", "enum": list(WEIGHTS)},
                        "count": {"type": "string"},
                        "crs": {"type": "string", "enum": list(CRS_NAMES)},
                        "lang": {"type": "string", "enum": list(LANGS)},
                        "sheet": {"type": "string"},
                        "out_crs": {"type": "string", "enum": list(CRS_NAMES)}}}}}},
                "responses": {"200": _ok(VALIDATE_OUT), "400": ERROR, "413": ERROR}}},
            "/api/access": _get("Station load (2SFCA / E2SFCA)", [
                TYPE, THRESHOLD, AT, AMENITY,
                _q("decay", "none: 2SFCA; gaussian: E2SFCA, sigma = threshold / 2.",
                   {"type": "string", "enum": list(DECAYS), "default": "none"}),
                _q("max_per_seat", "Workers in reach per seat above which a station is "
                                   "overloaded (default: relay 500, health 5000, fitness 1200).",
                   {"type": "number", "minimum": MAX_PER_SEAT_RANGE[0],
                    "maximum": MAX_PER_SEAT_RANGE[1]})],
                _ok(ACCESS_OUT, "application/geo+json")),
            "/api/stations/{station_id}/checkins": _write(
                "A courier was here (one tap, no account)", CHECKIN_BODY),
            "/api/stations/{station_id}/reports": _write(
                "A courier reports a problem at a station", REPORT_BODY),
            "/api/stations/{station_id}/quality": {"get": {
                "summary": "One station's check-ins, open reports and flag",
                "parameters": [STATION_ID, DAYS],
                "responses": {"200": _ok(QUALITY_ONE, "application/geo+json"), "400": ERROR,
                              "404": ERROR}}},
            "/api/quality": _get("Every station's check-ins, open reports and flag (the "
                                 "planner's quality layer); the rule is in `rule`",
                                 [TYPE, DAYS], _ok(QUALITY_FC, "application/geo+json")),
            "/api/openapi.json": {"get": {"summary": "This document",
                                          "responses": {"200": JSON}}},
        },
        "components": {"schemas": {"Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "string"}, "param": {"type": "string"}}}}},
    }))


# Per-station operations, reached from a station list: the id of a listed feature is the path
STATION_OPERATIONS = {("/api/stations/{station_id}", "get"): "station",
                      ("/api/stations/{station_id}/quality", "get"): "stationQuality",
                      ("/api/stations/{station_id}/checkins", "post"): "stationCheckin",
                      ("/api/stations/{station_id}/reports", "post"): "stationReport"}


def _linked(doc: dict) -> dict:
    """Operation ids for the per-station routes, and OpenAPI links to them from the lists
    (/api/stations, /api/nearest), so a client can find valid ids from the document."""
    paths = doc["paths"]
    for (path, method), op_id in STATION_OPERATIONS.items():
        paths[path][method]["operationId"] = op_id
    links = {op_id: {"operationId": op_id,
                     "parameters": {"station_id": "$response.body#/features/0/id"},
                     "description": "The first listed station; any feature's `id` serves."}
             for op_id in STATION_OPERATIONS.values()}
    for path in ("/api/stations", "/api/nearest"):
        paths[path]["get"]["responses"]["200"]["links"] = links
    return doc


@bp.get("/openapi.json")
def openapi():
    """Serve the description."""
    return jsonify(document())
