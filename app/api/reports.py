"""Couriers' word on stations: check-ins and problem reports (writes), station quality (reads).

Writes are rate-limited per client address and per device (app/limits.py); a repeat within
the hour answers 200 with the first row's id and `"duplicate": true`.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, NamedTuple

from flask import Blueprint, abort, jsonify, request

from app.api.stations import geojson_response
from app.state import current_atlas, store
from geo.atlas import Atlas
from geo.errors import QueryError
from geo.hours import is_open
from geo.io.geojson import feature_collection
from geo.questions import parse_choice, shown
from geo.reports.db import REPORT_KINDS, utcnow
from geo.reports.parse import parse_checkin, parse_days, parse_report
from geo.reports.quality import FLAG_RULE, quality_table, recent_notes
from geo.reports.store import Report
from geo.schema import STATION_TYPES

if TYPE_CHECKING:
    from geo.reports.store import ReportStore

bp = Blueprint("reports_api", __name__, url_prefix="/api")
QUALITY_FIELDS = ("id", "name", "type", "district", "opening_hours")


def hours_of(a: Atlas, station_id: str) -> str:
    """The stated opening hours of a station couriers write about (prepared arrays: no table
    scan on the write path)."""
    i = a.positions.get(station_id)
    if i is None:  # a 400 naming it: the write is refused, not a page missing
        raise QueryError("station_id", f"no station with id {shown(station_id)}")
    return a.arrays.hours[i]


class Write(NamedTuple):
    """A courier's write, checked, ready for the store (the view and the write lane)."""

    station_id: str
    device: str
    found: Report | None  # a report's kind, amenity and note

    def record(self, reports: ReportStore, hours: str, address: str) -> tuple[int, bool]:
        """Store it: (id, created); a report remembers whether the stated hours said open."""
        if self.found is None:
            return reports.checkin(self.station_id, self.device, address)
        now = utcnow()
        return reports.report(self.station_id, self.found, is_open(hours, now.replace(
            tzinfo=UTC)), self.device, address, now)


def checked(kind: str, station_id: str, body: object) -> Write:
    """The write a body asks for, or a QueryError naming what is wrong with it."""
    if kind == "checkins":
        return Write(station_id, parse_checkin(body), None)
    found, device = parse_report(body)
    return Write(station_id, device, found)


def written(row_id: int, created: bool) -> tuple[dict, int]:
    """The answer to a write: 201 with the new id, or 200 with the first one's."""
    return ({"id": row_id}, 201) if created else ({"id": row_id, "duplicate": True}, 200)


def _write(kind: str, station_id: str):
    hours = hours_of(current_atlas(), station_id)
    write = checked(kind, station_id, request.get_json(silent=True))
    doc, status = written(*write.record(store(), hours, request.remote_addr or "-"))
    return jsonify(doc), status


@bp.post("/stations/<station_id>/checkins")
def checkin(station_id: str):
    """"I was here": one tap, no account."""
    return _write("checkins", station_id)


@bp.post("/stations/<station_id>/reports")
def report(station_id: str):
    """A problem found at a station; "closed" remembers whether the stated hours said open."""
    return _write("reports", station_id)


def _iso(value) -> str | None:
    return None if value is None or value != value else value.isoformat() + "Z"


def quality_features(rows, days: int) -> dict:
    """Stations as GeoJSON with their check-ins, open reports, flag and approved notes."""
    now = utcnow()
    ids = rows["id"].tolist()
    counts = store().counts(now, days, None if len(ids) > 500 else ids)
    table = quality_table(rows["id"].to_numpy(), counts)
    notes = recent_notes(counts["notes"])
    fc = feature_collection(rows, fields=QUALITY_FIELDS, days=days, rule=FLAG_RULE,
                            generated_at=now.isoformat() + "Z",
                            sample=current_atlas().is_sample)
    for feat, rec in zip(fc["features"], table.to_dict("records"), strict=True):
        feat["properties"].update(
            checkins_7d=rec["checkins_7d"], checkins_30d=rec["checkins_30d"],
            reports={k: rec[f"reports_{k}"] for k in REPORT_KINDS},
            closed_reports_in_hours=rec["closed_reports_in_hours"],
            flagged=bool(rec["flagged"]), last_checkin=_iso(rec["last_checkin"]),
            notes=notes.get(feat["id"], []))
    return fc


@bp.get("/quality")
def quality():
    """Every station (of a type) with its quality figures: the planner's layer."""
    a = current_atlas()
    type_ = parse_choice("type", request.args.get("type"), STATION_TYPES)
    rows = a.stations if type_ is None else a.stations[a.stations["type"] == type_]
    return geojson_response(quality_features(rows, parse_days(request.args.get("days"))))


@bp.get("/stations/<station_id>/quality")
def station_quality(station_id: str):
    """One station's quality figures: the courier's card."""
    rows = current_atlas().station(station_id)
    if rows is None:
        abort(404, description=f"no station with id {shown(station_id)}")
    fc = quality_features(rows, parse_days(request.args.get("days")))
    return geojson_response({**fc["features"][0], "days": fc["days"], "rule": FLAG_RULE,
                     "generated_at": fc["generated_at"], "sample": fc["sample"]})
