"""What-if scenarios: add stations, remove stations, change hours, and recompute coverage
without touching the dataset (a modified copy of the station table, indexed afresh)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.analysis.coverage import CoverageResult, coverage_of
from geo.errors import QueryError
from geo.hours import hours_error
from geo.index.nearest import NearestIndex
from geo.schema import AMENITY_BIT, in_china

MAX_CHANGES = 500  # added, removed or re-timed stations in one scenario
ALL_AMENITIES = sum(AMENITY_BIT.values())


@dataclass(frozen=True)
class Scenario:
    """Planned changes: new stations at points (WGS-84), ids to close, ids with new hours."""

    add: tuple[tuple[float, float], ...] = ()
    remove: tuple[str, ...] = ()
    hours: dict[str, str] = field(default_factory=dict)
    new_hours: str = "24/7"  # opening hours of added stations


def check(scenario: Scenario, known_ids: set[str]) -> None:
    """Reject unknown ids, bad hours, points outside China and oversized lists."""
    for name, items in (("add", scenario.add), ("remove", scenario.remove),
                        ("hours", scenario.hours)):
        if len(items) > MAX_CHANGES:
            raise QueryError(name, f"{name} lists {len(items)} items; the limit is {MAX_CHANGES}")
    for i, (lon, lat) in enumerate(scenario.add):
        if not in_china(lon, lat):
            raise QueryError("add", f"add[{i}] = [{lon}, {lat}] is not a [lng, lat] in China")
    for name, ids in (("remove", scenario.remove), ("hours", list(scenario.hours))):
        unknown = [i for i in ids if i not in known_ids]
        if unknown:
            raise QueryError(name, f"no station with id {unknown[0]!r}")
    for sid, expr in scenario.hours.items():
        problem = hours_error(expr) if isinstance(expr, str) else "not text"
        if problem:
            raise QueryError("hours", f"hours for {sid!r}: {problem}")


def apply(stations: pd.DataFrame, scenario: Scenario, type_: str) -> pd.DataFrame:
    """The station table with the changes made (the original is left as it was). Added
    stations are of the scenario's type, open `new_hours` and have every amenity."""
    out = stations[~stations["id"].isin(scenario.remove)].copy()
    if scenario.hours:
        new = out["id"].map(scenario.hours)
        out["opening_hours"] = new.where(new.notna(), out["opening_hours"])
    if scenario.add:
        lon, lat = np.array(scenario.add, float).reshape(-1, 2).T
        added = pd.DataFrame({"id": [f"new-{i + 1}" for i in range(len(lon))],
                              "name": [f"New site {i + 1}" for i in range(len(lon))],
                              "type": type_, "opening_hours": scenario.new_hours,
                              "amenity_bits": ALL_AMENITIES, "lon": lon, "lat": lat,
                              "source": "scenario"})
        out = pd.concat([pd.DataFrame(out.drop(columns="geometry", errors="ignore")), added],
                        ignore_index=True)
    return out.reset_index(drop=True)


def recompute(stations: pd.DataFrame, like: CoverageResult) -> CoverageResult:
    """Coverage over a (modified) station table for the same question as `like`: the same
    cells, workers present, districts and street network."""
    return coverage_of(NearestIndex(stations), stations["id"].to_numpy(object), like.grid,
                       like.districts, like.spec, like.network, presence=like.presence)


def compare(before: CoverageResult, after: CoverageResult) -> dict:
    """Before, after and the difference, for the city and for each district."""
    b, a = before.summary(), after.summary()
    keys = ("covered", "uncovered", "stations_usable")
    delta = {k: a[k] - b[k] for k in keys}
    delta["share_covered"] = round((a["share_covered"] or 0) - (b["share_covered"] or 0), 4)
    db = before.by_district().set_index("code")
    da = after.by_district().set_index("code").reindex(db.index)
    table = pd.DataFrame({"code": db.index.to_numpy(), "name": db["name"], "name_en": db["name_en"],
                          "workers": db["workers"], "covered_before": db["covered"],
                          "covered_after": da["covered"],
                          "share_before": db["share_covered"], "share_after": da["share_covered"]})
    table = table.reset_index(drop=True)
    table["delta"] = table["covered_after"] - table["covered_before"]
    table = table.sort_values(["delta", "code"], ascending=[False, True], kind="stable")
    return {"before": b, "after": a, "delta": delta, "districts": table}
