"""What every nearest-station answer shares, slow path and hot path alike: travel speeds, the
open/closed status, the note for a start too far from every station, the top-level members."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from geo.hours import is_open, next_change
from geo.questions import NearestQuery

WALK_KMH = 4.5
EBIKE_KMH = 15.0
FAR_M = 20_000.0  # beyond this a station is no use to a courier: say so rather than list it


def station_status(hours: str, at: datetime) -> dict:
    """Open or closed at `at`, and when that changes (None for never, as with 24/7)."""
    open_now = is_open(hours, at)
    change = next_change(hours, at)
    stamp = change.isoformat(timespec="minutes") if change else None
    return {"open": open_now, "closes_at": stamp if open_now else None,
            "opens_at": None if open_now else stamp}


def far_note(distances_m: np.ndarray, far_m: float = FAR_M) -> dict | None:
    """When answers exist but none within `far_m`: a note (code, km, text) instead of them.

    A point in New York would otherwise be answered with a Shanghai station 11,900 km away.
    """
    d = np.asarray(distances_m, dtype=float)
    if d.size == 0 or (d <= far_m).any():
        return None
    km = round(float(d.min()) / 1000, 1)
    return {"code": "far", "km": km,
            "text": f"no matching station within {far_m / 1000:.0f} km: the nearest is "
                    f"{km:,.1f} km away (outside the area this dataset covers?)"}


def answer_top(q: NearestQuery, origin: tuple[float, float], sample: bool,
               note: dict | None = None) -> dict:
    """The top-level members of a nearest-station answer (API, hot path and CLI alike):
    how distances were measured, the origin in the output datum, when, and any note."""
    top = {"distance_kind": "straight" if q.mode == "straight" else "network",
           "mode": q.mode, "sample": sample,
           "origin": [round(origin[0], 7), round(origin[1], 7)],
           "at": q.at.isoformat(timespec="minutes")}
    if note:
        top |= {"note": note["text"], "note_code": note["code"],
                **({"note_km": note["km"]} if "km" in note else {})}
    return top
