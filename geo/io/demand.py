"""Worker demand: H3 cells with worker counts by segment, stored as index + counts only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo.errors import DatasetError
from geo.schema import SEGMENTS


def load_demand(path: Path) -> pd.DataFrame:
    """Read demand cells (h3, district_code, outdoor, office, industrial, source)."""
    df = pd.read_csv(path, dtype={"h3": str, "district_code": str, "source": "category"})
    missing = [c for c in ("h3", *SEGMENTS) if c not in df]
    if missing:
        raise DatasetError(f"{Path(path).name}: missing columns {', '.join(missing)}")
    for seg in SEGMENTS:
        df[seg] = df[seg].astype("int64")
    return df
