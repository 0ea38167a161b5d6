"""Embeds: minimal-chrome finder, coverage and station pages for other sites' iframes.

Every parameter is validated; a bad one gives a short inline message inside the frame.
Framing headers are set in app/frame_policy.py (this blueprint's name is what it checks).
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.datastructures import MultiDict

from app import current_atlas
from app.i18n import LANGS, STRINGS
from app.mapview import DISPLAY_CRS, TYPE_COLOURS, base_map
from app.pages import cached_map, common, render_finder, render_planner
from geo.coords import from_wgs84, to_wgs84
from geo.districts import match_district
from geo.finder import station_status
from geo.hours import local_time
from geo.navigation import nav_links
from geo.query import (
    K_MAX,
    QueryError,
    parse_amenities,
    parse_choice,
    parse_coverage,
    parse_crs,
    parse_float,
    parse_int,
)
from geo.schema import STATION_TYPES

bp = Blueprint("embeds", __name__, url_prefix="/embed")
TILES = ("osm", "amap", "none")


def _lang(args: MultiDict) -> str:
    """zh (default) or en; anything else is a parameter error."""
    return parse_choice("lang", args.get("lang"), LANGS) or "zh"


def _tiles(args: MultiDict) -> str:
    """The embedder may choose the base map; default is the site's."""
    return parse_choice("tiles", args.get("tiles"), TILES) or current_app.config["STATIONS_TILES"]


def _view(args: MultiDict, tiles: str, default_zoom: int) -> tuple[dict | None, tuple | None]:
    """Optional centre (lat/lng in `crs`) and zoom: the view in the display datum, and WGS-84."""
    lat_raw, lng_raw = args.get("lat"), args.get("lng")
    zoom = parse_int("zoom", args.get("zoom"), 3, 19, default_zoom)
    if not lat_raw and not lng_raw:
        return ({"zoom": zoom} if args.get("zoom") else None), None
    lat = parse_float("lat", lat_raw, -90, 90)
    lng = parse_float("lng", lng_raw, -180, 180)
    wlon, wlat = (float(v) for v in to_wgs84(lng, lat, parse_crs("crs", args.get("crs"))))
    dlon, dlat = (float(v) for v in from_wgs84(wlon, wlat, DISPLAY_CRS[tiles]))
    return {"lat": dlat, "lng": dlon, "zoom": zoom}, (wlon, wlat)


def inline_error(exc: QueryError, status: int = 400):
    """A small page that says what was wrong, shown inside the frame instead of a broken map."""
    lang = request.args.get("lang") if request.args.get("lang") in LANGS else "zh"
    return render_template("embed_error.html", message=exc.message, param=exc.param,
                           t=STRINGS[lang], lang=lang), status


@bp.get("/finder")
def finder():
    """The finder with minimal chrome; lat/lng (if given) centre the map and list the nearest."""
    args = request.args
    try:
        lang, tiles = _lang(args), _tiles(args)
        view, origin = _view(args, tiles, 15)
        filters = {"type": parse_choice("type", args.get("type"), STATION_TYPES),
                   "amenities": parse_amenities("amenity", args.getlist("amenity")),
                   "time": "now" if parse_choice("open_now", args.get("open_now"),
                                                 ("0", "1")) == "1" else "any"}
        k = parse_int("k", args.get("k"), 1, K_MAX, 5)
    except QueryError as exc:
        return inline_error(exc)
    return render_finder(lang=lang, tiles=tiles, k=k, embed=True, view=view, filters=filters,
                         origin={"lng": origin[0], "lat": origin[1], "crs": "wgs84"}
                         if origin else None)


@bp.get("/coverage")
def coverage():
    """Coverage choropleth and the top gap zones with a small legend."""
    args = request.args
    atlas = current_atlas()
    try:
        lang, tiles = _lang(args), _tiles(args)
        spec = parse_coverage(args.get("type"), args.get("threshold_m"), args.get("at"),
                              args.getlist("amenity"))
        view, _ = _view(args, tiles, 11)
        fit = None
        if args.get("district"):
            codes = match_district(atlas.districts, args["district"])
            if not codes:
                raise QueryError("district", f"unknown district {args['district']!r}")
            w, s, e, n = atlas.districts[atlas.districts["code"].isin(codes)].total_bounds
            (x0, x1), (y0, y1) = from_wgs84([w, e], [s, n], DISPLAY_CRS[tiles])
            fit = [[float(y0), float(x0)], [float(y1), float(x1)]]
    except QueryError as exc:
        return inline_error(exc)
    query = {"type": spec.type, "threshold_m": spec.threshold,
             "at": spec.at.isoformat(timespec="minutes") if spec.at else None,
             "amenity": list(spec.amenities)}
    return render_planner(lang=lang, tiles=tiles, embed=True, view=view, fit=fit, query=query)


@bp.get("/station/<station_id>")
def station(station_id: str):
    """One station's card and a small map, for a partner's page about that station."""
    args = request.args
    atlas = current_atlas()
    try:
        lang, tiles = _lang(args), _tiles(args)
    except QueryError as exc:
        return inline_error(exc)
    rows = atlas.station(station_id)
    if rows is None:
        return inline_error(QueryError("id", f"no station with id {station_id!r}"), 404)
    st = rows.iloc[0].to_dict()  # a dict: in Jinja, a Series row would answer st.name itself
    now = local_time()
    dlon, dlat = (float(v) for v in from_wgs84(st["lon"], st["lat"], DISPLAY_CRS[tiles]))
    parts = cached_map(f"station-{tiles}", lambda: base_map(atlas, tiles, zoom=16))
    cfg = {"map": parts["name"], "point": [dlat, dlon], "name": st["name"],
           "colour": TYPE_COLOURS.get(st["type"], "#555"), "crs": DISPLAY_CRS[tiles],
           "embed_url": request.base_url}
    return render_template("embed_station.html", page="station", map=parts, cfg=cfg,
                           embed=True, st=st, status=station_status(st["opening_hours"], now),
                           nav=nav_links(st["lon"], st["lat"], st["name"]),
                           **common(lang, tiles))
