"""Embeds: minimal-chrome finder, coverage and station pages for other sites' iframes.

Every parameter is validated; a bad one gives a short inline message inside the frame.
Framing headers are set in app/frame_policy.py (this blueprint's name is what it checks).
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.datastructures import MultiDict

from app import current_atlas
from app.finder_state import parse_state, view_of
from app.i18n import LANGS, STRINGS
from app.mapview import DISPLAY_CRS, TYPE_COLOURS, base_map
from app.pages import cached_map, common, render_finder, render_planner
from geo.coords import from_wgs84
from geo.districts import match_district
from geo.finder import station_status
from geo.hours import local_time
from geo.navigation import nav_links
from geo.query import (
    QueryError,
    parse_choice,
    parse_coverage,
)

bp = Blueprint("embeds", __name__, url_prefix="/embed")
TILES = ("osm", "amap", "none")


def _lang(args: MultiDict) -> str:
    """zh (default) or en; anything else is a parameter error."""
    return parse_choice("lang", args.get("lang"), LANGS) or "zh"


def _tiles(args: MultiDict) -> str:
    """The embedder may choose the base map; default is the site's."""
    return parse_choice("tiles", args.get("tiles"), TILES) or current_app.config["STATIONS_TILES"]


def inline_error(exc: QueryError, status: int = 400):
    """A small page that says what was wrong, in the page's language, inside the frame."""
    lang = request.args.get("lang") if request.args.get("lang") in LANGS else "zh"
    t = STRINGS[lang]
    if lang == "en":
        message = exc.message
    elif exc.param == "id":
        message = t["no_station"].format(id=request.view_args.get("station_id", ""))
    else:
        value = ", ".join(request.args.getlist(exc.param)) or "（空）"
        message = t["bad_value"].format(p=exc.param, v=value)
    return render_template("embed_error.html", message=message, param=exc.param,
                           t=t, lang=lang), status


@bp.get("/finder")
def finder():
    """The finder with minimal chrome, in the state its URL carries (same parser as the page)."""
    try:
        lang, tiles = _lang(request.args), _tiles(request.args)
        state = parse_state(request.args, tiles)
    except QueryError as exc:
        return inline_error(exc)
    return render_finder(lang=lang, tiles=tiles, state=state, embed=True)


@bp.get("/coverage")
def coverage():
    """Coverage choropleth and the top gap zones with a small legend."""
    args = request.args
    atlas = current_atlas()
    try:
        lang, tiles = _lang(args), _tiles(args)
        spec = parse_coverage(args.get("type"), args.get("threshold_m"), args.get("at"),
                              args.getlist("amenity"))
        view, _ = view_of(args, tiles, 11)
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
    parts = cached_map(f"station-{tiles}", lambda: base_map(tiles, zoom=16))
    cfg = {"map": parts["name"], "point": [dlat, dlon], "name": st["name"],
           "colour": TYPE_COLOURS.get(st["type"], "#555"), "crs": DISPLAY_CRS[tiles],
           "embed_url": request.base_url}
    return render_template("embed_station.html", page="station", map=parts, cfg=cfg,
                           embed=True, st=st, status=station_status(st["opening_hours"], now),
                           nav=nav_links(st["lon"], st["lat"], st["name"]),
                           **common(lang, tiles))
