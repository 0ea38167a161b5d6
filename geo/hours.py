"""Opening hours in OpenStreetMap syntax, evaluated per distinct expression, not per station."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from opening_hours import OpeningHours, ParserError

# China keeps one time zone (UTC+8, IANA "Asia/Shanghai"); a dataset may name its own
# (a national dataset's dataset.json "timezone"), passed as `tz`.
TIMEZONE = ZoneInfo("Asia/Shanghai")


HOLIDAY_COUNTRY = "CN"  # `PH` means China's public holidays, wherever hours are evaluated
# Weekdays, Monday first (datetime.weekday() order): as the API and CLI spell them, and as
# three-letter English abbreviations, which they also take.
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
WEEKDAY_ABBRS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Kinds of day a demand profile distinguishes: China's days off are `holiday`, Saturdays and
# Sundays `weekend` (unless made working days), the rest `weekday`.
DAY_KINDS = ("weekday", "weekend", "holiday")


@lru_cache(maxsize=4096)
def parse_hours(expr: str) -> OpeningHours:
    """Parse once and reuse: thousands of stations share a handful of expressions."""
    return OpeningHours(expr, country=HOLIDAY_COUNTRY)


def day_kind(day: date) -> str:
    """Which profile a date follows: China's statutory days off (the `holidays` package,
    substituted days off included) are `holiday`; a weekend made a working day (调休) is a
    `weekday`."""
    calendar = _china(day.year)
    if day in calendar:
        return "holiday"
    if day.weekday() >= 5 and day not in calendar.weekend_workdays:
        return "weekend"
    return "weekday"


@lru_cache(maxsize=16)
def _china(year: int):
    """China's public holidays of a year, built once."""
    import holidays

    return holidays.China(years=[year])


def hours_error(expr: str) -> str | None:
    """Why an expression is unusable, or None: lets loaders name the bad row."""
    if not isinstance(expr, str) or not expr.strip():
        return "is empty"
    try:
        parse_hours(expr)
    except (ParserError, SyntaxError, ValueError) as exc:
        return f"{expr!r} is not valid opening_hours syntax ({str(exc).splitlines()[0]})"
    return None


def utc_offset_min(tz: ZoneInfo = TIMEZONE, at: datetime | None = None) -> int:
    """The zone's offset from UTC in minutes at `at` (now by default): what the pages' scripts
    add to the device clock to read the station's wall clock."""
    moment = datetime.now(tz) if at is None else (
        at.replace(tzinfo=tz) if at.tzinfo is None else at.astimezone(tz))
    return int(moment.utcoffset().total_seconds() // 60)


def local_time(at: datetime | None = None, tz: ZoneInfo = TIMEZONE) -> datetime:
    """A naive local wall-clock time in the dataset's zone: what station hours are written in."""
    if at is None:
        return datetime.now(tz).replace(tzinfo=None, second=0, microsecond=0)
    if at.tzinfo is not None:
        return at.astimezone(tz).replace(tzinfo=None)
    return at


def open_mask(exprs: np.ndarray, at: datetime) -> np.ndarray:
    """Which stations are open at `at`, evaluating each distinct expression once."""
    at = local_time(at)
    uniq, inverse = np.unique(np.asarray(exprs, dtype=object).astype(str), return_inverse=True)
    is_open = np.array([parse_hours(e).is_open(at) for e in uniq], dtype=bool)
    return is_open[inverse.reshape(-1)]


def next_change(expr: str, at: datetime) -> datetime | None:
    """When a station next opens or closes after `at`; None if it never changes (24/7)."""
    return parse_hours(expr).next_change(local_time(at))


def is_open(expr: str, at: datetime) -> bool:
    """Whether one station is open at `at` (local Shanghai time if naive)."""
    return bool(parse_hours(expr).is_open(local_time(at)))


def open_intervals(expr: str, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """Open spans as minutes after `start`: lets a phone answer "open now?" with no server."""
    start, end = local_time(start), local_time(end)
    return [(int((a - start).total_seconds() // 60), int((b - start).total_seconds() // 60))
            for a, b, state, _ in parse_hours(expr).intervals(start, end)
            if str(state) == "open"]


def week_table(expr: str, monday: datetime) -> list[list[tuple[str, str]]]:
    """Monday-first daily (from, to) 'HH:MM' spans for one week: the card's hours table."""
    monday = local_time(monday).replace(hour=0, minute=0, second=0, microsecond=0)
    days: list[list[tuple[str, str]]] = [[] for _ in range(7)]
    for a, b in open_intervals(expr, monday, monday + timedelta(days=7)):
        while a < b:  # split spans that run past midnight into one per day
            day, cut = a // 1440, min(b, (a // 1440 + 1) * 1440)
            days[day].append((f"{a % 1440 // 60:02d}:{a % 60:02d}",
                              "24:00" if cut % 1440 == 0 else f"{cut % 1440 // 60:02d}:"
                                                              f"{cut % 60:02d}"))
            a = cut
    return days


def extend_day(expr: str, day: datetime, start_hour: int | None, end_hour: int | None) -> str:
    """`expr` with one weekday's opening started at start_hour:00 and/or ended at end_hour:00
    (24 for midnight): a rule for that weekday appended, which overrides the earlier ones on
    that day, then the public-holiday clause again so holidays keep theirs."""
    monday = local_time(day).replace(hour=0, minute=0, second=0, microsecond=0)
    monday -= timedelta(days=monday.weekday())
    spans = week_table(expr, monday)[day.weekday()]
    if not spans:
        raise ValueError(f"{expr!r} is not open on {WEEKDAYS[day.weekday()]}: nothing to extend")
    if start_hour is not None:
        spans[0] = (f"{start_hour:02d}:00", spans[0][1])
    if end_hour is not None:
        spans[-1] = (spans[-1][0], f"{end_hour:02d}:00")
    rule = f"{WEEKDAYS[day.weekday()].capitalize()} " + ",".join(f"{a}-{b}" for a, b in spans)
    ph = holiday_rule(expr)
    return f"{expr}; {rule}" + (f"; PH {ph}" if ph else "")


def holiday_rule(expr: str) -> str | None:
    """The public-holiday clause of an expression ('off', '10:00-16:00'), or None if it has none.

    Holidays are not in the calendar the evaluator uses, so pages show the rule as written.
    """
    for part in expr.split(";"):
        part = part.strip()
        if part.startswith("PH"):
            return part[2:].strip() or "open"
    return None
