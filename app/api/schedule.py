"""Opening-schedule API: which stations should open earlier or close later on a weekday, for a
budget of added station-hours (/api/schedule). The work is done by geo.analysis.schedule."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, current_app, jsonify, request

from app.api.coverage import _day_cover, _download, _spec, cached, coverage_for
from app.state import current_atlas
from geo.analysis.schedule import MAX_BUDGET_HOURS, DaySchedule, day_schedule
from geo.errors import QueryError
from geo.hours import WEEKDAYS
from geo.io.export import csv_bytes, template_frame
from geo.questions import parse_choice, parse_clock_hour, parse_int, parse_weekday

bp = Blueprint("schedule_api", __name__, url_prefix="/api")
BUDGET_DEFAULT = 100


def schedule_for(args) -> DaySchedule:
    """The schedule for a question, computed once (the page asks for it, then its CSV)."""
    spec = _spec()
    if spec.at is not None:
        raise QueryError("at", "a schedule plans a whole day: give weekday, not at")
    weekday = parse_weekday("weekday", args.get("weekday"), 1)
    budget = parse_int("budget_hours", args.get("budget_hours"), 1, MAX_BUDGET_HOURS,
                       BUDGET_DEFAULT)
    earliest = parse_clock_hour("earliest", args.get("earliest"), 0)
    latest = parse_clock_hour("latest", args.get("latest"), 24)
    step = parse_int("step", args.get("step"), 1, 12, 1)
    exact = parse_choice("exact", args.get("exact"), ("0", "1")) == "1"
    if earliest >= latest:
        raise QueryError("earliest", f"earliest ({earliest:02d}:00) must come before latest "
                                     f"({latest:02d}:00)")
    key = (spec, weekday, budget, earliest, latest, step, exact)
    return cached("schedule_cache", key, lambda: day_schedule(
        current_atlas(), spec, weekday, budget, earliest=earliest, latest=latest, step=step,
        exact=exact, time_limit=current_app.config["STATIONS_MIP_SECONDS"],
        cover=_day_cover(spec, weekday), reach=coverage_for(replace(spec, at=None))))


@bp.get("/schedule")
def schedule():
    """Hours to add to existing stations for the most covered worker-hours over a day."""
    fmt = parse_choice("format", request.args.get("format"), ("json", "csv")) or "json"
    day = schedule_for(request.args)
    atlas = current_atlas()
    spec = _spec()
    if fmt == "csv":  # the whole list with the new hours: `stations import` reads it back
        return _download(csv_bytes(template_frame(day.applied_to(atlas.stations))), "csv",
                         f"schedule-{spec.type}-{WEEKDAYS[day.weekday]}")
    return jsonify({"type": spec.type, "threshold_m": spec.threshold, **day.answer(),
                    **atlas.provenance(spec.type)})
