"""The OpenAPI 3.0 description of the JSON API, served at /api/openapi.json."""

from __future__ import annotations

from flask import Blueprint, jsonify, url_for

from geo.access import DECAYS
from geo.plan import K_MAX as PLAN_K_MAX
from geo.query import DISTANCE_MODES, K_MAX, THRESHOLD_RANGE_M
from geo.schema import AMENITIES, STATION_TYPES
from geo.zones import GROUPS

bp = Blueprint("openapi", __name__, url_prefix="/api")


def _q(name: str, description: str, schema: dict, required: bool = False,
       repeat: bool = False) -> dict:
    """One query parameter."""
    if repeat:
        schema = {"type": "array", "items": schema}
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema, **({"explode": True} if repeat else {})}


TYPE = _q("type", "Station type.", {"type": "string", "enum": list(STATION_TYPES)})
AMENITY = _q("amenity", "Required amenity (repeat, or comma-separate).",
             {"type": "string", "enum": list(AMENITIES)}, repeat=True)
OPEN_AT = _q("open_at", "Only stations open then: ISO time (Shanghai time if naive) or 'now'.",
             {"type": "string", "example": "2026-11-24T21:00"})
AT = _q("at", "Count only stations open then: ISO time or 'now'.", {"type": "string"})
OUT_CRS = _q("out_crs", "Datum of output coordinates, for drawing on Chinese base maps.",
             {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"})
CRS = _q("crs", "Datum of lat/lng.", {"type": "string", "enum": ["wgs84", "gcj02", "bd09"],
                                      "default": "wgs84"})
MODE = _q("mode", "Distance: straight line, or along a street network; walk and bike need "
               "that mode's graph loaded by the server (STATIONS_GRAPH_WALK / _BIKE), else "
               "the answer is a 400 naming `mode`.",
          {"type": "string", "enum": list(DISTANCE_MODES), "default": "straight"})
THRESHOLD = _q("threshold_m", "Service distance in metres (default: relay 1000, health 3000, "
               "fitness 2000).", {"type": "number", "minimum": THRESHOLD_RANGE_M[0],
                                  "maximum": THRESHOLD_RANGE_M[1]})
BBOX = _q("bbox", "min_lng,min_lat,max_lng,max_lat (WGS-84).", {"type": "string"})
COVERAGE = [TYPE, THRESHOLD, AT, AMENITY, MODE]
MIN_DENSITY = _q("min_density", "Workers per km2 below which uncovered cells form no zone "
                 "(default: relay 200, health 900, fitness 1300).",
                 {"type": "number", "minimum": 0})
PLAN = [*COVERAGE, MIN_DENSITY,
        _q("k", "How many sites.", {"type": "integer", "minimum": 1, "maximum": PLAN_K_MAX,
                                    "default": 10}),
        _q("candidates", "cells: every demand-cell centre; extend_hours: stations closed at "
                         "`at` (needs at).", {"type": "string",
                                              "enum": ["cells", "extend_hours"]}),
        _q("exact", "1: exact MIP (HiGHS, 60 s limit) instead of greedy.",
           {"type": "string", "enum": ["0", "1", "true", "false"]}),
        _q("format", "json (default); geojson or csv downloads the sites.",
           {"type": "string", "enum": ["json", "geojson", "csv"]}), OUT_CRS]
PLAN_BODY = {"type": "object", "properties": {
    **{p["name"]: p["schema"] for p in PLAN if p["name"] != "candidates"},
    "candidates": {"description": "cells, extend_hours, or a GeoJSON FeatureCollection of "
                                  "points (at most 20,000)",
                   "oneOf": [{"type": "string", "enum": ["cells", "extend_hours"]},
                             {"type": "object"}]}}}
SCENARIO_BODY = {"type": "object", "properties": {
    **{p["name"]: p["schema"] for p in [*COVERAGE, MIN_DENSITY]},
    "add": {"type": "array", "items": {"type": "array", "items": {"type": "number"},
                                       "minItems": 2, "maxItems": 2},
            "description": "New stations at [lng, lat] (WGS-84), open 24/7."},
    "remove": {"type": "array", "items": {"type": "string"}, "description": "Station ids."},
    "hours": {"type": "object", "additionalProperties": {"type": "string"},
              "description": "Station id -> new opening_hours, e.g. 24/7."},
    "crs": {**CRS["schema"], "description": "Datum of the `add` points."},
    "out_crs": {**OUT_CRS["schema"], "description": "Datum of the returned gap zones "
                                                    "(simplified for drawing unless wgs84)."}}}

def _n(schema: dict) -> dict:
    """Nullable."""
    return {**schema, "nullable": True}


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


def _feature(props: dict, required: list[str]) -> dict:
    return {"type": "object", "required": ["type", "id", "geometry", "properties"],
            "properties": {"type": {"type": "string", "enum": ["Feature"]}, "id": STR,
                           "geometry": POINT,
                           "properties": {"type": "object", "required": required,
                                          "properties": props}}}


def _collection(feature: dict, **top: dict) -> dict:
    return {"type": "object", "required": ["type", "features", *top],
            "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                           "features": {"type": "array", "items": feature}, **top}}


STATIONS_FC = _collection(_feature(STATION_PROPS, ["id"]), sample={"type": "boolean"},
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
        "type": "object", "required": ["hour", "covered", "share_covered"],
        "properties": {"hour": {"type": "integer", "minimum": 0, "maximum": 23},
                       "covered": INT, "share_covered": _n(NUM)}}}}}


def _ok(schema: dict, media: str = "application/json", **downloads: str) -> dict:
    """A 200 answer with its schema, plus the download media types it may answer with."""
    content = {media: {"schema": schema}}
    content |= {m: {"schema": {"type": "string", "format": "binary"}} for m in downloads.values()}
    return {"description": "OK", "content": content}


ERROR = {"description": "A bad parameter: `error` says what is wrong, `param` names it.",
         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
GEOJSON = {"description": "GeoJSON (WGS-84 unless out_crs says otherwise).",
           "content": {"application/geo+json": {"schema": {"type": "object"}}}}
JSON = {"description": "JSON.", "content": {"application/json": {"schema": {"type": "object"}}}}


def _get(summary: str, params: list[dict], ok: dict, **extra) -> dict:
    """One GET operation with the usual error answer."""
    return {"get": {"summary": summary, "parameters": params,
                    "responses": {"200": ok, "400": ERROR, **extra}}}


def document() -> dict:
    """The whole description; paths are relative to the server root."""
    return {
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
                         {"type": "string"}), AMENITY, OPEN_AT, BBOX,
                _q("fields", "Comma-separated properties to keep (small map layers).",
                   {"type": "string"}), OUT_CRS], _ok(STATIONS_FC, "application/geo+json")),
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
                                      "default": 5}), AMENITY, OPEN_AT, MODE, OUT_CRS,
                _q("lang", "Language of the start label in navigation links.",
                   {"type": "string", "enum": ["zh", "en"]})],
                _ok(NEAREST_FC, "application/geo+json")),
            "/api/search": _get("Find a place, district, station, typed coordinates (each datum "
                                "offered) or a pasted Amap / Baidu link", [
                _q("q", "What to find.", {"type": "string", "maxLength": 2000}, True),
                _q("lang", "Label language.", {"type": "string", "enum": ["zh", "en"]}),
                OUT_CRS], JSON),
            "/api/pack": _get("Every station with open spans for the next 14 days (offline use)",
                              [OUT_CRS, _q("v", "Pack version (cache key).",
                                           {"type": "string"})], JSON),
            "/api/districts": _get("District boundaries", [
                OUT_CRS, _q("display", "1: codes only, simplified to ~100 m for map backgrounds "
                                       "(cached; add v=<data version> for a year).",
                            {"type": "string", "enum": ["0", "1"]}),
                _q("v", "Data version (cache key); any value is accepted.",
                   {"type": "string"})], GEOJSON),
            "/api/coverage": _get("Coverage summary and per-district table", [
                *COVERAGE, _q("format", "json, or csv to download the district table.",
                              {"type": "string", "enum": ["json", "csv"]})],
                _ok(COVERAGE_OUT, csv="text/csv")),
            "/api/coverage/hourly": _get("Coverage at each hour of a weekday", [
                *[p for p in COVERAGE if p["name"] != "at"],
                _q("weekday", "0-6 (Monday = 0) or mo..su.",
                   {"type": "string", "pattern": "^([0-6]|mo|tu|we|th|fr|sa|su)$"})],
                _ok(HOURLY_OUT)),
            "/api/gaps": _get("Ranked gap zones: station-sized (group=site) or connected", [
                *COVERAGE, MIN_DENSITY,
                _q("group", "site: the uncovered dense cells one new station would serve, "
                            "peeled greedily; connected: connected uncovered areas (overview).",
                   {"type": "string", "enum": list(GROUPS), "default": "site"}),
                _q("limit", "How many zones.", {"type": "integer", "minimum": 1,
                                                           "maximum": 5000, "default": 20}),
                _q("format", "Output format.", {"type": "string",
                                                "enum": ["geojson", "csv", "gpkg"]}),
                _q("simplify", "1: lighter polygons for drawing (GeoJSON only).",
                   {"type": "string", "enum": ["0", "1"]}),
                _q("download", "1: send as an attachment.", {"type": "string",
                                                             "enum": ["0", "1"]}),
                OUT_CRS], _ok({"type": "object"}, "application/geo+json", csv="text/csv",
                              gpkg="application/geopackage+sqlite3")),
            "/api/coverage/cells": _get("Demand cells in a box (at most 6,000)",
                                        [_q("bbox", BBOX["description"], {"type": "string"},
                                            True), *COVERAGE, OUT_CRS], GEOJSON),
            "/api/service-areas": _get("Station catchments along the street network",
                                       [*COVERAGE, OUT_CRS], GEOJSON),
            "/api/plan": {**_get("Where to add k stations (or which closed stations to "
                                 "keep open): maximal covering", PLAN,
                                 _ok({"type": "object"}, geojson="application/geo+json",
                                     csv="text/csv")),
                          "post": {"summary": "The same, with candidate points uploaded",
                                   "requestBody": {"required": True, "content": {
                                       "application/json": {"schema": PLAN_BODY}}},
                                   "responses": {"200": JSON, "400": ERROR}}},
            "/api/scenario": {"post": {
                "summary": "Coverage before and after adding, removing or re-timing stations",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": SCENARIO_BODY}}},
                "responses": {"200": JSON, "400": ERROR}}},
            "/api/validate": {"post": {
                "summary": "Check a station list (CSV, XLSX, GeoJSON) as `stations import` "
                           "would; writes nothing",
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"type": "object", "required": ["file"], "properties": {
                        "file": {"type": "string", "format": "binary",
                                 "description": "At most 10 MB."},
                        "type": {"type": "string", "enum": list(STATION_TYPES)},
                        "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
                        "lang": {"type": "string", "enum": ["zh", "en"]},
                        "sheet": {"type": "string"},
                        "out_crs": {"type": "string",
                                    "enum": ["wgs84", "gcj02", "bd09"]}}}}}},
                "responses": {"200": JSON, "400": ERROR, "413": ERROR}}},
            "/api/access": _get("Station load (2SFCA / E2SFCA)", [
                TYPE, THRESHOLD, AT, AMENITY,
                _q("decay", "none: 2SFCA; gaussian: E2SFCA, sigma = threshold / 2.",
                   {"type": "string", "enum": list(DECAYS), "default": "none"}),
                _q("max_per_seat", "Workers in reach per seat above which a station is "
                                   "overloaded (default: relay 500, health 5000, fitness 1200).",
                   {"type": "number", "minimum": 1, "maximum": 1e9})], GEOJSON),
            "/api/openapi.json": {"get": {"summary": "This document",
                                          "responses": {"200": JSON}}},
        },
        "components": {"schemas": {"Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "string"}, "param": {"type": "string"}}}}},
    }


@bp.get("/openapi.json")
def openapi():
    """Serve the description."""
    return jsonify(document())
