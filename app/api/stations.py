"""The JSON API: stations, one station, nearest stations. GeoJSON where the answer is spatial."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.datastructures import MultiDict

from app.i18n import DEFAULT_LANG, LANGS
from app.mapview import DISPLAY_DECIMALS, DISPLAY_TOLERANCE_DEG
from app.serving.assets import document_response
from app.state import current_atlas
from geo.atlas import Atlas
from geo.coords import from_wgs84
from geo.errors import QueryError
from geo.finder import hot_path
from geo.finder.answer import answer_top
from geo.finder.offline_pack import station_pack
from geo.finder.search import find_nearest, select_stations, unreachable, within_reach
from geo.hours import local_time
from geo.io.districts import display_geojson, match_district
from geo.io.geojson import STATION_PROPERTIES, feature_collection
from geo.navigation import nav_links
from geo.questions import (
    NearestQuery,
    parse_bbox,
    parse_choice,
    parse_crs,
    parse_filter,
    parse_nearest,
    shown,
)

bp = Blueprint("api", __name__, url_prefix="/api")


_FIELD = "(" + "|".join(STATION_PROPERTIES) + ")"
FIELDS_PATTERN = rf"^\s*{_FIELD}\s*(,\s*{_FIELD}\s*)*$"  # also the OpenAPI document's


def _fields() -> tuple[str, ...] | None:
    """Optional `fields=id,name,type` to keep map layers small."""
    raw = request.args.get("fields")
    if raw is None:
        return None
    if not re.match(FIELDS_PATTERN, raw):
        bad = next((f.strip() for f in raw.split(",")
                    if f.strip() not in STATION_PROPERTIES), raw)
        raise QueryError("fields", f"unknown field {shown(bad)}: use a comma-separated list "
                                   f"of {', '.join(STATION_PROPERTIES)}")
    return tuple(f.strip() for f in raw.split(","))


def geojson_response(doc: dict):
    """A GeoJSON response with its registered media type."""
    resp = jsonify(doc)
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/stations")
def stations():
    """Stations filtered by type, district, amenity, opening time and bounding box."""
    a = current_atlas()
    flt = parse_filter(request.args.get("type"), request.args.getlist("amenity"),
                       request.args.get("open_at"))
    district = request.args.get("district", "").strip()
    codes = match_district(a.districts, district) if district else None
    if codes == set():
        raise QueryError("district", f"unknown district {shown(district)}: use a code like 310101 "
                                     "or a name like 黄浦区 / Huangpu")
    rows = select_stations(a, flt, codes, parse_bbox("bbox", request.args.get("bbox")))
    return geojson_response(feature_collection(
        rows, fields=_fields(), out_crs=parse_crs("out_crs", request.args.get("out_crs")),
        sample=a.is_sample, count=len(rows)))


@bp.get("/stations/<station_id>")
def station(station_id: str):
    """One station as a GeoJSON Feature."""
    a = current_atlas()
    out_crs = parse_crs("out_crs", request.args.get("out_crs"))
    if a.station(station_id) is None:
        abort(404, description=f"no station with id {shown(station_id)}")
    return geojson_response({**_station_feature(a, station_id, out_crs), "sample": a.is_sample})


STATION_FEATURES = 4096  # one station's Feature kept per worker (a few hundred bytes each)


def _station_feature(a: Atlas, station_id: str, out_crs: str) -> dict:
    """The station's Feature, built once: through pandas it cost 2 ms, so the route answered
    500 times a second on two workers. An app keeps at most STATION_FEATURES."""
    cache = current_app.extensions.setdefault("station_features", {})
    if len(cache) >= STATION_FEATURES:
        cache.clear()
    key = (station_id, out_crs)
    if key not in cache:
        cache[key] = feature_collection(a.station(station_id), out_crs=out_crs)["features"][0]
    return cache[key]


def nearest_question(args: MultiDict) -> tuple[NearestQuery, str, str]:
    """The question, output datum and language of a /api/nearest request (view and lane)."""
    one = dict(args.items())  # first values; a MultiDict's get raises (and builds) a
    # BadRequestKeyError for every absent parameter, six a typical question
    q = parse_nearest(one.get("lat"), one.get("lng"), crs=one.get("crs"),
                      type=one.get("type"), k=one.get("k"), amenities=args.getlist("amenity"),
                      open_at=one.get("open_at"), mode=one.get("mode"))
    out_crs = parse_crs("out_crs", one.get("out_crs"))
    return q, out_crs, parse_choice("lang", one.get("lang"), LANGS) or DEFAULT_LANG


def straight_answer(a: Atlas, q: NearestQuery, out_crs: str, lang: str) -> dict:
    """The straight-line answer from prepared arrays, no pandas (view and lane)."""
    return hot_path.answer(a.arrays, a.index, q, out_crs, lang, a.is_sample)


@bp.get("/nearest")
def nearest():
    """The k nearest usable stations, with travel times, open status and navigation links."""
    a = current_atlas()
    q, out_crs, lang = nearest_question(request.args)
    if q.mode == "straight":  # the hot path (see also app/nearest_lane.py)
        return geojson_response(straight_answer(a, q, out_crs, lang))
    require_mode(a, q.mode)
    rows, far = within_reach(find_nearest(a, q))
    rows["nav"] = [nav_links(r.lon, r.lat, r.name, (q.lon, q.lat), lang, a.region)
                   for r in rows.itertuples()]
    olon, olat = (float(v) for v in from_wgs84(q.lon, q.lat, out_crs))
    note = far or (unreachable(a, q) if rows.empty else None)
    return geojson_response(feature_collection(rows, out_crs=out_crs,
                                       **answer_top(q, (olon, olat), a.is_sample, note)))


def pack_version(a: Atlas) -> str:
    """The pack changes with the data and with the day its open spans start."""
    return f"{a.version}-{local_time():%Y%m%d}"


@bp.get("/pack")
def pack():
    """Every station with its open spans for two weeks: the finder's offline answer key."""
    a = current_atlas()
    crs = parse_crs("out_crs", request.args.get("out_crs"))
    version = pack_version(a)
    return document_response(f"pack-{crs}", version, lambda: station_pack(
        a.stations, local_time(tz=a.timezone), crs, a.is_sample, a.data_date, a.timezone))


def require_mode(a: Atlas, mode: str) -> None:
    """A network mode can only be used when its graph is loaded (else a NetworkError naming
    `mode`: a 400)."""
    if mode != "straight":
        a.network(mode)


@bp.get("/districts")
def districts():
    """District boundaries (code, names, area) for maps; `out_crs` shifts them for display.

    `display=1` is the pages' background layer: codes only, simplified, cached by version.
    """
    a = current_atlas()
    crs = parse_crs("out_crs", request.args.get("out_crs"))
    if parse_choice("display", request.args.get("display"), ("0", "1")) == "1":
        return document_response(f"districts-{crs}", a.version, lambda: display_geojson(
            a.districts, crs, fields=("code",), tolerance_deg=DISPLAY_TOLERANCE_DEG,
            decimals=DISPLAY_DECIMALS), "application/geo+json")
    return geojson_response(display_geojson(a.districts, crs))
