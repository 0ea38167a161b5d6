"""The finder's whole state in its URL: point, filters, time, mode, zoom, k, language.

One parser for the page, its embed and oEmbed, so a shared link, a reload, a language switch
and an embedded copy all show the same thing. The embed answers a bad value with an inline
error; the page never fails, it notes what it ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from app.mapview import DISPLAY_CRS
from geo.coords import from_wgs84, to_wgs84
from geo.errors import QueryError
from geo.index.nearest import K_DEFAULT
from geo.questions import (
    DISTANCE_MODES,
    K_MAX,
    parse_amenities,
    parse_choice,
    parse_crs,
    parse_float,
    parse_int,
    parse_time,
)
from geo.schema import STATION_TYPES

STATE_PARAMS = ("lat", "lng", "crs", "zoom", "type", "amenity", "open_now", "at", "mode", "k",
                "lang", "tiles", "station")


@dataclass
class FinderState:
    """What the finder shows, validated; `notes` say what a lenient parse had to drop."""

    k: int = K_DEFAULT
    view: dict | None = None  # {"lat", "lng", "zoom"} in the display datum, or {"zoom"}
    origin: dict | None = None  # {"lng", "lat", "crs": "wgs84"}
    filters: dict = field(default_factory=lambda: {"type": None, "amenities": (),
                                                   "time": "now", "at": None,
                                                   "mode": None})
    station: str | None = None
    notes: list[tuple[str, dict]] = field(default_factory=list)  # (string key, values)


def view_of(args: MultiDict, tiles: str, default_zoom: int) -> tuple[dict | None, tuple | None]:
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


def _time(args: MultiDict) -> tuple[str, str | None]:
    """`at=ISO` (a chosen time), else `open_now=0` (any time), else open now (the default)."""
    at = parse_time("at", args.get("at"))
    if at is not None and str(args.get("at")).strip().lower() != "now":
        return "at", at.isoformat(timespec="minutes")
    if parse_choice("open_now", args.get("open_now"), ("0", "1")) == "0":
        return "any", None
    return "now", None


def parse_state(args: MultiDict, tiles: str, default_zoom: int = 15,
                lenient: bool = False) -> FinderState:
    """The state from URL parameters: QueryError on a bad one, or (lenient) a note and a default."""
    st = FinderState()

    def attempt(fn, fallback=None):
        try:
            return fn()
        except QueryError as exc:
            if not lenient:
                raise
            st.notes.append(("bad_value", {"p": exc.param,
                                           "v": ", ".join(args.getlist(exc.param))}))
            return fallback

    view_origin = attempt(lambda: view_of(args, tiles, default_zoom), (None, None))
    st.view, origin = view_origin
    if origin:
        st.origin = {"lng": origin[0], "lat": origin[1], "crs": "wgs84"}
    time_kind, at = attempt(lambda: _time(args), ("now", None))
    st.filters = {
        "type": attempt(lambda: parse_choice("type", args.get("type"), STATION_TYPES)),
        "amenities": attempt(lambda: parse_amenities("amenity", args.getlist("amenity")), ()),
        "time": time_kind, "at": at,
        "mode": attempt(lambda: parse_choice("mode", args.get("mode"), DISTANCE_MODES)),
    }
    st.k = attempt(lambda: _k(args, lenient, st), K_DEFAULT)
    station = args.get("station", "").strip()
    st.station = station[:80] or None
    return st


def _k(args: MultiDict, lenient: bool, st: FinderState) -> int:
    """1..K_MAX; a lenient page caps a larger k and says so (never a silent default)."""
    try:
        return parse_int("k", args.get("k"), 1, K_MAX, K_DEFAULT)
    except QueryError:
        raw = str(args.get("k")).strip()
        if lenient and raw.isdigit() and int(raw) > K_MAX:
            st.notes.append(("k_capped", {"max": K_MAX, "k": int(raw)}))
            return K_MAX
        raise
