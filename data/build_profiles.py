"""Write data/demand_profiles.csv: the share of each segment's workers present at each hour.

The shapes are ASSUMED rules, not measurements (see data/README.md, "Hourly presence"): a
union with real figures replaces them with `stations demand profiles FILE --dataset DIR`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from geo.hours import DAY_KINDS
from geo.io.demand_profiles import PROFILE_COLUMNS, PROFILES, sort_profiles

# hour:    0    1    2    3    4    5    6    7    8    9   10   11
#         12   13   14   15   16   17   18   19   20   21   22   23
OUTDOOR = [.15, .10, .08, .08, .15, .30, .45, .55, .60, .60, .70, .90,
           .90, .70, .55, .55, .65, .85, .90, .80, .60, .45, .35, .25]
OFFICE = [.02, .02, .02, .02, .02, .02, .03, .10, .40, .85, .95, .95,
          .90, .95, .95, .95, .90, .70, .40, .25, .15, .08, .04, .02]
INDUSTRIAL = [.20, .20, .20, .20, .20, .20, .20, .35, .75, .75, .75, .75,
              .70, .75, .75, .75, .75, .50, .30, .25, .22, .22, .22, .22]
# Days off scale the working-day shape: riders work every day (fewer morning errands at the
# weekend), offices and factories mostly rest.
OFF_DAY = {"outdoor": {"weekend": 0.9, "holiday": 0.8},
           "office": {"weekend": 0.15, "holiday": 0.10},
           "industrial": {"weekend": 0.5, "holiday": 0.3}}
SHAPES = {"outdoor": OUTDOOR, "office": OFFICE, "industrial": INDUSTRIAL}


def profiles() -> pd.DataFrame:
    """Every segment, kind of day and hour, shares rounded to three decimals."""
    rows = []
    for seg, shape in SHAPES.items():
        for day in DAY_KINDS:
            scale = 1.0 if day == "weekday" else OFF_DAY[seg][day]
            rows += [{"segment": seg, "day": day, "hour": h,
                      "share": round(float(np.clip(s * scale, 0, 1)), 3)}
                     for h, s in enumerate(shape)]
    return sort_profiles(pd.DataFrame(rows, columns=list(PROFILE_COLUMNS)))


def main() -> None:
    out = Path(__file__).resolve().parent / PROFILES
    profiles().to_csv(out, index=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
