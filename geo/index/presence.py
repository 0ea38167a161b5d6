"""Workers present at an hour: each cell's workers times its segment's share for that hour and
kind of day (or the cell's own profile), rounded per cell and segment to whole workers (half
up). The rounding is the cell's own, so a city computed in partitions, or a part of a city,
counts exactly what the whole does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from geo.hours import DAY_KINDS, day_kind
from geo.index.cells import CellGrid, cell_index, parse_cells
from geo.io.demand_profiles import HOUR_COLUMNS


@dataclass(frozen=True)
class Presence:
    """Shares by segment and kind of day, and the cells with a profile of their own."""

    shares: dict[tuple[str, str], np.ndarray]  # (segment, day kind) -> 24 shares
    own: dict[str, tuple[np.ndarray, np.ndarray]]  # segment -> (cell ids, (m, 24) shares)

    @classmethod
    def from_tables(cls, profiles: pd.DataFrame, cell_hours: pd.DataFrame | None = None
                    ) -> Presence:
        """From the dataset's profile table and its own-profile cells."""
        shares = {(seg, day): g.sort_values("hour")["share"].to_numpy(float)
                  for (seg, day), g in profiles.groupby(["segment", "day"])}
        own = {}
        if cell_hours is not None and len(cell_hours):
            for seg, g in cell_hours.groupby("segment"):
                own[str(seg)] = (parse_cells(g["h3"].to_numpy()),
                                 g[list(HOUR_COLUMNS)].to_numpy(float))
        return cls(shares, own)

    def segment_matrix(self, grid: CellGrid, segment: str, kind: str,
                       hours: slice | list[int] = slice(None)) -> np.ndarray:
        """(cells, hours) workers of one segment present at those hours (all 24 unless
        said), exact (fractional)."""
        base = self.shares[(segment, kind)][hours]
        share = np.broadcast_to(base, (len(grid), len(base))).copy()
        if segment in self.own:
            ids, own = self.own[segment]
            pos = cell_index(grid.ids, ids)
            share[pos[pos >= 0]] = own[pos >= 0][:, hours]
        return grid.workers[segment][:, None] * share

    def day(self, grid: CellGrid, segments: tuple[str, ...], kind: str) -> np.ndarray:
        """(cells, 24) whole workers present each hour in the segments (each segment's
        rounded on its own, so segments add up to the total they are part of)."""
        if kind not in DAY_KINDS:
            raise ValueError(f"unknown kind of day {kind!r}")
        return sum((whole(self.segment_matrix(grid, s, kind)) for s in segments),
                   np.zeros((len(grid), 24), np.int64))

    def at(self, grid: CellGrid, segments: tuple[str, ...], when: datetime) -> np.ndarray:
        """Whole workers present per cell at a local time (its hour, its kind of day)."""
        kind = day_kind(when.date())
        return sum((whole(self.segment_matrix(grid, s, kind, [when.hour])[:, 0])
                    for s in segments), np.zeros(len(grid), np.int64))

    def key(self, when: datetime) -> tuple[str, int]:
        """What the workers present depend on: answers at times with the same key share them."""
        return day_kind(when.date()), when.hour


def whole(exact: np.ndarray) -> np.ndarray:
    """Whole workers per cell, half up: a cell's count never depends on its neighbours'."""
    return np.floor(exact + 0.5).astype(np.int64)
