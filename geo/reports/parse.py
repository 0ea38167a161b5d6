"""Parse a courier's check-in or report from a JSON body: the same rules for the API and CLI."""

from __future__ import annotations

import re
import unicodedata

from geo.errors import QueryError
from geo.questions import parse_int, parse_time, shown
from geo.reports.db import REPORT_KINDS, UTC_ZONE
from geo.reports.store import Report
from geo.schema import AMENITIES

NOTE_MAX = 200
DAYS_MAX = 366
DEVICE_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"  # also the OpenAPI document's
_DEVICE = re.compile(DEVICE_PATTERN)


def parse_device(raw: object) -> str:
    """The page's random id: 8-64 letters, digits, '-' or '_' (rate limits and dedupe)."""
    if not isinstance(raw, str) or not _DEVICE.match(raw):
        raise QueryError("device", f"device must be the page's random id (8-64 letters, digits, "
                                   f"- or _), got {shown(raw)}")
    return raw


def parse_note(raw: object) -> str | None:
    """Plain text of at most NOTE_MAX characters, or None; control characters refused."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise QueryError("note", "note must be text")
    text = raw.strip()
    if len(text) > NOTE_MAX:
        raise QueryError("note", f"note has {len(text)} characters; the limit is {NOTE_MAX}")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
        raise QueryError("note", "note may not contain control characters")
    return text or None


def _object(body: object) -> dict:
    """A write's JSON body, which must be an object."""
    if not isinstance(body, dict):
        raise QueryError("body", "send a JSON object (Content-Type: application/json)")
    return body


def parse_report(body: object) -> tuple[Report, str]:
    """A report body: kind, amenity (only and always for amenity_missing), note, device."""
    body = _object(body)
    kind = body.get("kind")
    if kind not in REPORT_KINDS:
        raise QueryError("kind", f"kind must be one of {', '.join(REPORT_KINDS)}, "
                                 f"got {shown(kind)}")
    amenity = body.get("amenity")
    if kind == "amenity_missing":
        if amenity not in AMENITIES:
            got = "none" if amenity is None else shown(amenity)
            raise QueryError("amenity", f"amenity must be one of {', '.join(AMENITIES)} for "
                                        f"amenity_missing, got {got}")
    elif amenity is not None:
        raise QueryError("amenity", "amenity goes only with kind amenity_missing")
    return Report(kind, amenity, parse_note(body.get("note"))), parse_device(body.get("device"))


def parse_checkin(body: object) -> str:
    """A check-in body: just the device."""
    return parse_device(_object(body).get("device"))


def parse_days(raw: str | None, default: int = 30) -> int:
    """The quality window in days, 1..366."""
    return parse_int("days", raw, 1, DAYS_MAX, default)


def parse_since(raw: str | None):
    """`--since 2026-11-01` or an ISO time, read as UTC (how report times are stored)."""
    if raw is not None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
        raw = raw.strip() + "T00:00"
    return parse_time("since", raw, UTC_ZONE)
