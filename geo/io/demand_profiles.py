"""Hourly presence profiles: the share of a cell's workers present at each hour, per segment and
kind of day (`demand_profiles.csv`), and the cells that carry their own (`demand_hours.csv.gz`,
from an H3 demand file with columns h00…h23)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import DatasetError, DemandFileError, TableError
from geo.hours import DAY_KINDS
from geo.schema import SEGMENTS

PROFILES = "demand_profiles.csv"
CELL_HOURS = "demand_hours.csv.gz"
HOUR_COLUMNS = tuple(f"h{h:02d}" for h in range(24))
PROFILE_COLUMNS = ("segment", "day", "hour", "share")
MAX_PROBLEMS = 200


def read_profiles(path: str | Path) -> pd.DataFrame:
    """A clerk's profile file, every row checked: a bad one is named by its line (the header
    is line 1), and nothing is returned unless all are good. It may hold only some segments
    or days; `merge_profiles` fills the rest from the live ones."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: file not found")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise TableError(f"{path.name}: not a readable CSV ({str(exc).splitlines()[0]})"
                         ) from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in PROFILE_COLUMNS if c not in raw.columns]
    if missing:
        raise TableError(f"{path.name}: missing columns {', '.join(missing)} (a profile file "
                         f"has {', '.join(PROFILE_COLUMNS)})")
    if raw.empty:
        raise DemandFileError(str(path), [{"reason": "the file has no rows"}])
    table, problems = _checked(raw[list(PROFILE_COLUMNS)].apply(lambda c: c.str.strip()))
    if problems:
        raise DemandFileError(str(path), problems[:MAX_PROBLEMS])
    return table


def _checked(raw: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Typed rows and the problems of the bad ones (row numbers as a spreadsheet shows)."""
    rows = np.arange(len(raw)) + 2
    hour = pd.to_numeric(raw["hour"], errors="coerce")
    share = pd.to_numeric(raw["share"], errors="coerce")
    checks = [
        ("segment", ~raw["segment"].isin(SEGMENTS), f"is not one of {', '.join(SEGMENTS)}"),
        ("day", ~raw["day"].isin(DAY_KINDS), f"is not one of {', '.join(DAY_KINDS)}"),
        ("hour", ~(hour.between(0, 23) & (hour % 1 == 0)), "is not a whole hour 0-23"),
        ("share", ~share.between(0, 1), "is not a share between 0 and 1"),
    ]
    problems = [{"row": int(rows[i]), "column": col, "value": raw[col].iat[i],
                 "reason": f"{col} {raw[col].iat[i]!r} {why}"}
                for col, bad, why in checks for i in np.flatnonzero(bad.to_numpy())]
    table = pd.DataFrame({"segment": raw["segment"], "day": raw["day"],
                          "hour": hour.fillna(-1).astype(int), "share": share})
    dup = table.duplicated(["segment", "day", "hour"], keep="first").to_numpy()
    problems += [{"row": int(rows[i]), "column": "hour", "value": raw["hour"].iat[i],
                  "reason": f"{table['segment'].iat[i]} {table['day'].iat[i]} hour "
                            f"{raw['hour'].iat[i]} is given twice"}
                 for i in np.flatnonzero(dup)]
    return table, problems


def merge_profiles(live: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """The live profiles with the new file's rows in place of theirs: one full table."""
    key = ["segment", "day", "hour"]
    both = pd.concat([new, live], ignore_index=True).drop_duplicates(key, keep="first")
    return sort_profiles(both)


def sort_profiles(table: pd.DataFrame) -> pd.DataFrame:
    """Segment, day kind and hour in their documented order: a stable file to diff."""
    seg = table["segment"].map({s: i for i, s in enumerate(SEGMENTS)})
    day = table["day"].map({d: i for i, d in enumerate(DAY_KINDS)})
    order = np.lexsort((table["hour"].to_numpy(), day.to_numpy(), seg.to_numpy()))
    return table.iloc[order].reset_index(drop=True)[list(PROFILE_COLUMNS)]


def load_profiles(path: Path) -> pd.DataFrame:
    """A dataset's profiles: every segment, kind of day and hour must be there."""
    try:
        table, problems = _checked(pd.read_csv(path, dtype=str, keep_default_na=False))
    except (KeyError, pd.errors.ParserError) as exc:
        raise DatasetError(f"{path}: not a profile table ({exc})") from None
    if problems:
        raise DatasetError(f"{path}: row {problems[0]['row']}: {problems[0]['reason']}")
    if len(table) != len(SEGMENTS) * len(DAY_KINDS) * 24:
        raise DatasetError(f"{path}: needs one share per segment, kind of day and hour "
                           f"({len(SEGMENTS) * len(DAY_KINDS) * 24} rows), has {len(table)}")
    return sort_profiles(table)


def load_cell_hours(path: Path | None) -> pd.DataFrame:
    """Cells with their own profile (h3, segment, h00…h23 shares); empty when there are none."""
    if path is None or not path.is_file():
        return pd.DataFrame(columns=["h3", "segment", *HOUR_COLUMNS])
    table = pd.read_csv(path, dtype={"h3": str, "segment": str})
    missing = [c for c in ("h3", "segment", *HOUR_COLUMNS) if c not in table]
    if missing:
        raise DatasetError(f"{path}: missing columns {', '.join(missing)}")
    return table


def hourly_shares(hours: np.ndarray, workers: np.ndarray) -> np.ndarray:
    """Own profiles from counts by hour: the share present is the hour's count over the
    cell's workers (its count column, or by default its busiest hour), at most 1."""
    hours = np.asarray(hours, float)
    base = np.where(workers > 0, workers, hours.max(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(base[:, None] > 0, hours / base[:, None], 0.0)
    return np.clip(out, 0.0, 1.0)


def flat_profiles(share: float = 1.0) -> pd.DataFrame:
    """The same share for every segment, day and hour: with 1, everyone is there all the
    time, and answers at a time count the all-day workers (as before profiles existed)."""
    rows = [(s, d, h, share) for s in SEGMENTS for d in DAY_KINDS for h in range(24)]
    return pd.DataFrame(rows, columns=list(PROFILE_COLUMNS))
