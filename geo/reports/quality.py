"""Station quality from couriers' word: check-ins, open reports by kind, and a flag.

The flag (documented in the API and the README): a station is **flagged** when, in the window,
at least `FLAG_DEVICES` different devices reported it closed during its stated opening hours or
not found, and those reports outnumber the check-ins there in the same window. A report a
moderator marks resolved no longer counts, nor does one older than the window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.reports.db import REPORT_KINDS

FLAG_DEVICES = 2
FLAG_RULE = (f"flagged: in the window, at least {FLAG_DEVICES} different devices reported the "
             "station closed during its stated opening hours or not found, and those reports "
             "outnumber its check-ins in the window; resolved reports do not count")
NOTES_SHOWN = 3  # approved notes per station, newest first


def quality_table(station_ids: np.ndarray, counts: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per station id (in the given order) from the database's grouped tallies."""
    out = pd.DataFrame(index=pd.Index(np.asarray(station_ids, dtype=object), name="id"))

    def tally(counts_by_station: pd.Series) -> pd.Series:
        """A count per station of `out`, 0 where the database had none."""
        return counts_by_station.reindex(out.index).fillna(0).astype(int)

    ck = counts["checkins"].set_index("station_id")
    for col, src in (("checkins_7d", "d7"), ("checkins_30d", "d30"),
                     ("checkins_window", "window")):
        out[col] = tally(ck[src])
    out["last_checkin"] = ck["last"].reindex(out.index)
    rp = counts["reports"]
    by_kind = rp.pivot_table(index="station_id", columns="kind", values="n", aggfunc="sum")
    for kind in REPORT_KINDS:
        out[f"reports_{kind}"] = tally(by_kind[kind] if kind in by_kind
                                       else pd.Series(dtype=float))
    out["closed_reports_in_hours"] = tally(
        rp[rp["kind"] == "closed"].set_index("station_id")["in_hours"])
    pb = counts["problems"].set_index("station_id")
    out["problem_devices"] = tally(pb["devices"])
    out["problem_reports"] = tally(pb["problems"])
    out["flagged"] = flagged(out["problem_devices"].to_numpy(),
                             out["problem_reports"].to_numpy(),
                             out["checkins_window"].to_numpy())
    return out


def flagged(devices: np.ndarray, problems: np.ndarray, checkins: np.ndarray) -> np.ndarray:
    """The flag rule on arrays: enough distinct devices, and more problems than visits."""
    return (devices >= FLAG_DEVICES) & (problems > checkins)


def recent_notes(notes: pd.DataFrame, per_station: int = NOTES_SHOWN) -> dict[str, list[dict]]:
    """Approved notes, newest first, at most `per_station` each (rows come newest first)."""
    top = notes.groupby("station_id", sort=False).head(per_station)
    return {sid: [{"kind": r.kind, "text": r.note, "at": r.created_at.isoformat() + "Z"}
                  for r in rows.itertuples()]
            for sid, rows in top.groupby("station_id", sort=False)}
