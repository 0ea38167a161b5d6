"""Embeds: minimal-chrome finder, coverage and station pages for other sites' iframes.

Every parameter is validated; a bad one gives a short inline message inside the frame.
Framing headers are set in app/frame_policy.py (this blueprint's name is what it checks).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from flask import Blueprint, current_app, render_template, request
from werkzeug.datastructures import MultiDict

from app.i18n import DEFAULT_LANG, LANGS, STRINGS
from app.mapview import DISPLAY_CRS, TYPE_COLOURS
from app.pages.finder_state import parse_state, view_of
from app.pages.site import common, render_finder, render_planner
from app.pages.static_map import station_picture
from app.state import current_atlas
from geo.coords import from_wgs84
from geo.errors import QueryError
from geo.finder.answer import station_status
from geo.hours import holiday_rule, local_time, open_mask, week_table
from geo.io.districts import match_district, shift_geometries
from geo.navigation import nav_links
from geo.questions import parse_choice, parse_coverage, shown

bp = Blueprint("embeds", __name__, url_prefix="/embed")
TILES = ("osm", "amap", "none")


def _lang(args: MultiDict) -> str:
    """zh (default) or en; anything else is a parameter error."""
    return parse_choice("lang", args.get("lang"), LANGS) or DEFAULT_LANG


def _tiles(args: MultiDict) -> str:
    """The embedder may choose the base map; default is the site's."""
    return parse_choice("tiles", args.get("tiles"), TILES) or current_app.config["STATIONS_TILES"]


def inline_error(exc: QueryError, status: int = 400):
    """A small page that says what was wrong, in the page's language, inside the frame."""
    lang = request.args.get("lang") if request.args.get("lang") in LANGS else DEFAULT_LANG
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
                raise QueryError("district", f"unknown district {shown(args['district'])}")
            w, s, e, n = atlas.districts[atlas.districts["code"].isin(codes)].total_bounds
            (x0, x1), (y0, y1) = from_wgs84([w, e], [s, n], DISPLAY_CRS[tiles])
            fit = [[float(y0), float(x0)], [float(y1), float(x1)]]
    except QueryError as exc:
        return inline_error(exc)
    query = {"type": spec.type, "threshold_m": spec.threshold,
             "at": spec.at.isoformat(timespec="minutes") if spec.at else None,
             "amenity": list(spec.amenities)}
    return render_planner(lang=lang, tiles=tiles, embed=True, view=view, fit=fit, query=query)


NEAR_DEG = 0.02  # neighbours drawn on the station picture: within ~2 km


@bp.get("/station/<station_id>")
def station(station_id: str):
    """One station's card and a small static map, for a partner's page about that station."""
    args = request.args
    atlas = current_atlas()
    try:
        lang, tiles = _lang(args), _tiles(args)
    except QueryError as exc:
        return inline_error(exc)
    rows = atlas.station(station_id)
    if rows is None:
        return inline_error(QueryError("id", f"no station with id {shown(station_id)}"), 404)
    st = rows.iloc[0].to_dict()  # a dict: in Jinja, a Series row would answer st.name itself
    now = local_time()
    crs = DISPLAY_CRS[tiles]
    s = atlas.stations
    near = s[(abs(s["lon"] - st["lon"]) < NEAR_DEG) & (abs(s["lat"] - st["lat"]) < NEAR_DEG)
             & (s["id"] != st["id"])]
    nlon, nlat = from_wgs84(near["lon"].to_numpy(float), near["lat"].to_numpy(float), crs)
    is_open = open_mask(near["opening_hours"].to_numpy(), now)
    dots = [{"lon": float(x), "lat": float(y), "colour": TYPE_COLOURS.get(t, "#555"),
             "open": bool(o)} for x, y, t, o in zip(np.atleast_1d(nlon), np.atleast_1d(nlat),
                                                    near["type"], is_open, strict=True)]
    dlon, dlat = (float(v) for v in from_wgs84(st["lon"], st["lat"], crs))
    picture = station_picture(dlon, dlat, shift_geometries(
        np.asarray(atlas.districts.geometry.array), crs), dots, tiles)
    monday = now - timedelta(days=now.weekday())
    return render_template("embed_station.html", page="station", map=None, embed=True, st=st,
                           status=station_status(st["opening_hours"], now),
                           week=week_table(st["opening_hours"], monday), today=now.weekday(),
                           ph=holiday_rule(st["opening_hours"]), picture=picture,
                           colour=TYPE_COLOURS.get(st["type"], "#555"),
                           nav=nav_links(st["lon"], st["lat"], st["name"], lang=lang,
                                         region=atlas.region),
                           days=STRINGS[lang]["days"].split(","),
                           **common(lang, tiles))
