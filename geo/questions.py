"""Parse and validate a nearest-station question from strings (CLI flags, URL parameters).

One parser serves the CLI and the JSON API, so both reject the same inputs with the same
message and name the offending parameter.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from geo.coords import check_crs, to_wgs84
from geo.errors import QueryError
from geo.hours import TIMEZONE, WEEKDAY_ABBRS, WEEKDAYS, local_time
from geo.index.nearest import K_DEFAULT, StationFilter
from geo.schema import AMENITIES, STATION_TYPES

K_MAX = 50


MAX_SHOWN = 100  # an error message quotes at most this much of the offending value
YEARS = (2000, 2100)  # times outside these years are refused, not converted


def shown(raw: object) -> str:
    """The offending value for a message: quoted, and cut to MAX_SHOWN characters."""
    text = str(raw)
    return repr(text[:MAX_SHOWN] + ("…" if len(text) > MAX_SHOWN else ""))


_ASCII_INT = re.compile(r"^[+-]?[0-9]+$")
_ASCII_FLOAT = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")


@dataclass(frozen=True)
class NearestQuery:
    """A validated question: a WGS-84 point, how many answers, and what makes a station usable."""

    lon: float
    lat: float
    k: int
    flt: StationFilter
    at: datetime  # when open/closed is reported for: the filter time, else now
    mode: str = "straight"  # or walk / bike: along a loaded street network


def parse_float(param: str, raw: str | None, lo: float, hi: float) -> float:
    """A finite number within [lo, hi], or a QueryError naming the parameter."""
    if raw is None or str(raw).strip() == "":
        raise QueryError(param, f"{param} is required")
    if not _ASCII_FLOAT.match(str(raw).strip()):  # float() would take "١٢" and "nan"
        raise QueryError(param, f"{param} must be a number, got {shown(raw)}")
    value = float(raw)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise QueryError(param, f"{param} must be between {lo:g} and {hi:g}, got {shown(raw)}")
    return value


def parse_int(param: str, raw: str | None, lo: int, hi: int, default: int) -> int:
    """A whole number within [lo, hi]; the default when absent."""
    if raw is None or str(raw).strip() == "":
        return default
    if not _ASCII_INT.match(str(raw).strip()):  # int() would take "١٢" and other scripts
        raise QueryError(param, f"{param} must be a whole number, got {shown(raw)}")
    value = int(str(raw).strip())
    if not lo <= value <= hi:
        raise QueryError(param, f"{param} must be between {lo} and {hi}, got {value}")
    return value


def parse_clock_hour(param: str, raw: str | None, default: int) -> int:
    """A whole hour of the day as HH:00 (00:00 to 24:00), or a bare hour 0-24."""
    if raw is None or str(raw).strip() == "":
        return default
    text = str(raw).strip()
    m = re.fullmatch(r"([01]?[0-9]|2[0-4])(?::00)?", text)
    if not m or not text.isascii():
        raise QueryError(param, f"{param} must be a whole hour from 00:00 to 24:00, got "
                                f"{shown(raw)}")
    return int(m.group(1))


def parse_choice(param: str, raw: str | None, choices: tuple[str, ...]) -> str | None:
    """One of `choices`, or None when absent."""
    if raw is None or str(raw).strip() == "":
        return None
    value = str(raw).strip().lower()
    if value not in choices:
        raise QueryError(param, f"unknown {param} {shown(raw)}: use one of {', '.join(choices)}")
    return value


_DAY = (r"((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
        r"|02-(0[1-9]|1[0-9]|2[0-8]))")
_LEAP_YEAR = r"20(0[048]|[2468][048]|[13579][26])"  # 2000-2099: every fourth, 2000 included
_DATE = rf"(20[0-9]{{2}}-{_DAY}|{_LEAP_YEAR}-02-29)"
# The times every parser accepts, exactly (also the OpenAPI document's pattern): 'now', or
# YYYY-MM-DDTHH:MM in the years 2000-2099, optional seconds and UTC offset.
TIME_PATTERN = (rf"^([Nn][Oo][Ww]|{_DATE}T([01][0-9]|2[0-3]):[0-5][0-9]"
                r"(:[0-5][0-9])?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?)$")
_TIME = re.compile(TIME_PATTERN)


def parse_time(param: str, raw: str | None, tz: ZoneInfo = TIMEZONE) -> datetime | None:
    """An ISO time ('2026-11-24T21:00'), 'now', or None; naive times are local time (`tz`:
    the dataset's zone, China's by default)."""
    if raw is None or str(raw).strip() == "":
        return None
    text = str(raw)
    if text.lower() == "now":
        return local_time(None, tz)
    try:
        if not _TIME.match(text):  # years 2000-2099 as written: shifting cannot overflow
            raise ValueError(text)
        return local_time(datetime.fromisoformat(text.removesuffix("\n")), tz)  # `$`: one \n
    except ValueError:
        raise QueryError(param, f"{param} must be an ISO time like 2026-11-24T21:00 or 'now' "
                                f"(years {YEARS[0]}-{YEARS[1] - 1}; seconds and a UTC offset "
                                f"optional), got {shown(raw)}") from None


def parse_amenities(param: str, raws: list[str]) -> tuple[str, ...]:
    """Required amenities; each value may itself be comma-separated."""
    names = [n.strip().lower() for raw in raws for n in str(raw).split(",") if n.strip()]
    for name in names:
        if name not in AMENITIES:
            raise QueryError(param, f"unknown {param} {shown(name)}: use {', '.join(AMENITIES)}")
    return tuple(sorted(set(names), key=AMENITIES.index))


def parse_crs(param: str, raw: str | None) -> str:
    """A datum name (wgs84 when absent)."""
    try:
        return check_crs(raw or "wgs84")
    except ValueError as exc:
        raise QueryError(param, str(exc)) from None


def parse_bbox(param: str, raw: str | None) -> tuple[float, float, float, float] | None:
    """'min_lng,min_lat,max_lng,max_lat' in degrees, or None. Corners may come in either
    order; latitudes past a pole are clipped to it (a zoomed-out map's bounds do that)."""
    if raw is None or str(raw).strip() == "":
        return None
    parts = str(raw).split(",")
    if len(parts) != 4:
        raise QueryError(param,
                         f"{param} must be min_lng,min_lat,max_lng,max_lat, got {shown(raw)}")
    x1, y1, x2, y2 = (parse_float(param, v, -180, 180) for v in parts)
    s, n = (min(max(v, -90.0), 90.0) for v in sorted((y1, y2)))
    return min(x1, x2), s, max(x1, x2), n


def parse_filter(type: str | None = None, amenities: list[str] = (),
                 open_at: str | None = None) -> StationFilter:
    """Type, required amenities and opening time: what makes a station usable."""
    return StationFilter(type=parse_choice("type", type, STATION_TYPES),
                         amenities=parse_amenities("amenity", list(amenities)),
                         open_at=parse_time("open_at", open_at))


DISTANCE_MODES = ("straight", "walk", "bike")


def parse_nearest(lat: str | None, lng: str | None, *, crs: str | None = None,
                  type: str | None = None, k: str | None = None,
                  amenities: list[str] = (), open_at: str | None = None,
                  mode: str | None = None) -> NearestQuery:
    """Validate every parameter of a nearest-station question and convert the point to WGS-84."""
    lat_v = parse_float("lat", lat, -90.0, 90.0)
    lng_v = parse_float("lng", lng, -180.0, 180.0)
    crs_v = parse_crs("crs", crs)
    flt = parse_filter(type, amenities, open_at)
    lon_w, lat_w = (lng_v, lat_v) if crs_v == "wgs84" else to_wgs84(lng_v, lat_v, crs_v)
    k_v = parse_int("k", k, 1, K_MAX, K_DEFAULT)
    return NearestQuery(float(lon_w), float(lat_w), k_v, flt,
                        flt.open_at or local_time(),
                        parse_choice("mode", mode, DISTANCE_MODES) or "straight")


THRESHOLD_RANGE_M = (50.0, 20_000.0)


def parse_weekday(param: str, raw: str | None, default: int) -> int:
    """0-6 (Monday first) or mo..su / mon..sun, any case."""
    if raw is None or str(raw).strip() == "":
        return default
    text = str(raw).strip().lower()
    if text.isascii() and text.isdigit() and 0 <= int(text) <= 6:
        return int(text)
    for names in (WEEKDAYS, WEEKDAY_ABBRS):
        if text in names:
            return names.index(text)
    raise QueryError(param, f"{param} must be 0-6 (Monday = 0) or mo..su, got {shown(raw)}")


MIN_DENSITY_MAX = 1_000_000.0


def parse_min_density(param: str, raw: str | None) -> float | None:
    """Workers per km2 for the gap-zone density floor; None means the type's default."""
    if raw is None or str(raw).strip() == "":
        return None
    return parse_float(param, raw, 0.0, MIN_DENSITY_MAX)


def parse_coverage(type: str | None, threshold_m: str | None, at: str | None,
                   amenities: list[str] = (), mode: str | None = None,
                   tz: ZoneInfo = TIMEZONE) -> CoverageSpec:
    """A planner's coverage question (type defaults to relay, threshold to the type's)."""
    station_type = parse_choice("type", type, STATION_TYPES) or "relay"
    threshold = None
    if threshold_m is not None and str(threshold_m).strip() != "":
        threshold = parse_float("threshold_m", threshold_m, *THRESHOLD_RANGE_M)
    return CoverageSpec(station_type, threshold, parse_time("at", at, tz),
                        parse_amenities("amenity", list(amenities)),
                        parse_choice("mode", mode, DISTANCE_MODES) or "straight")


DEFAULT_THRESHOLDS_M = {"relay": 1000.0, "health": 3000.0, "fitness": 2000.0}


@dataclass(frozen=True)
class CoverageSpec:
    """The planner's question: which type, how far is too far, when, and with what amenities."""

    type: str = "relay"
    threshold_m: float | None = None
    at: datetime | None = None
    amenities: tuple[str, ...] = ()
    mode: str = "straight"  # or "walk" / "bike": along the loaded street network

    @property
    def threshold(self) -> float:
        """The service distance: as given, else the type's default."""
        return float(self.threshold_m if self.threshold_m is not None
                     else DEFAULT_THRESHOLDS_M[self.type])

    @property
    def station_filter(self) -> StationFilter:
        """Usable stations: this type, with the amenities, open at `at` if given."""
        return StationFilter(type=self.type, amenities=self.amenities, open_at=self.at)

    def describe(self) -> dict:
        """The question as JSON: every coverage answer repeats what it answers."""
        return {"type": self.type, "threshold_m": self.threshold,
                "distance_kind": "straight" if self.mode == "straight" else "network",
                "mode": self.mode,
                "at": self.at.isoformat(timespec="minutes") if self.at else None,
                "amenities": list(self.amenities)}
