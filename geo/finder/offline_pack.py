"""The station pack: everything a phone needs to answer "nearest open station" with no network.

Columns rather than GeoJSON features (a third of the bytes), and opening hours evaluated here,
once per distinct expression, into open spans over the coming days: the browser then decides
open or closed by comparing minutes, with the same evaluator's answers as the API.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from geo.coords import from_wgs84
from geo.hours import (
    TIMEZONE,
    holiday_rule,
    local_time,
    open_intervals,
    utc_offset_min,
    week_table,
)
from geo.schema import AMENITIES, STATION_TYPES, amenity_bits

PACK_DAYS = 14  # open spans cover two weeks: a phone offline for longer is told its data is old
DECIMALS = 6  # 0.1 m: distances computed in the browser match the API's to well under 1 m


def _hours_table(exprs: list[str], start: datetime, monday: datetime) -> list[dict]:
    """Per distinct expression: its text, open spans (minutes after start), week, PH rule."""
    end = start + timedelta(days=PACK_DAYS)
    return [{"expr": e, "open": open_intervals(e, start, end), "week": week_table(e, monday),
             "ph": holiday_rule(e)} for e in exprs]


def station_pack(stations: pd.DataFrame, at: datetime, display_crs: str = "wgs84",
                 sample: bool = False, data_date: str | None = None,
                 tz: ZoneInfo = TIMEZONE) -> dict:
    """Columns of every station plus its hours table, valid for PACK_DAYS from `at`'s midnight
    (wall-clock times in `tz`, whose UTC offset the pack carries for the phone's clock)."""
    start = local_time(at, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = start - timedelta(days=start.weekday())
    exprs, hours_idx = np.unique(stations["opening_hours"].astype(str).to_numpy(),
                                 return_inverse=True)
    lon, lat = stations["lon"].to_numpy(float), stations["lat"].to_numpy(float)
    x, y = (np.atleast_1d(v) for v in from_wgs84(lon, lat, display_crs))
    bits = [amenity_bits(am) for am in stations["amenities"]]
    text = {c: stations[c].fillna("").astype(str).tolist()
            for c in ("id", "name", "district", "address", "phone")}
    cap = stations["capacity"] if "capacity" in stations else pd.Series(0, index=stations.index)
    return {
        "start": start.isoformat(timespec="minutes"), "days": PACK_DAYS,
        "utc_offset_min": utc_offset_min(tz, start),
        "week_start": monday.date().isoformat(), "sample": sample, "data_date": data_date,
        "crs": display_crs, "types": list(STATION_TYPES), "amenities": list(AMENITIES),
        "hours": _hours_table(exprs.tolist(), start, monday),
        "stations": {
            **text,
            "type": [STATION_TYPES.index(t) for t in stations["type"]],
            "lon": np.round(lon, DECIMALS).tolist(), "lat": np.round(lat, DECIMALS).tolist(),
            # display coordinates only when the map's datum differs
            **({"x": np.round(x, DECIMALS).tolist(), "y": np.round(y, DECIMALS).tolist()}
               if display_crs != "wgs84" else {}),
            "hours": hours_idx.astype(int).tolist(), "amenities": bits,
            "capacity": pd.to_numeric(cap, errors="coerce").fillna(0).astype(int).tolist(),
        },
    }
