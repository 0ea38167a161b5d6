"""Per-station values prepared once at start-up, so the courier's hot path formats no table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.coords import CRS_NAMES, from_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from geo.io.geojson import STATION_PROPERTIES, plain
from geo.navigation import DEFAULT_REGION, amap_target, baidu_target


@dataclass
class StationArrays:
    """Everything an answer needs, per station, computed once at start-up."""

    props: list[dict]  # the static properties, in STATION_PROPERTIES order
    hours: list[str]
    amap_to: list[str]  # each station's URL-encoded Amap target (GCJ-02)
    baidu_to: list[str]  # and Baidu target (BD-09)
    display: dict[str, list]  # crs -> per station [x, y] rounded output coordinates
    region: str = DEFAULT_REGION  # the map apps' region (the dataset's city)

    @classmethod
    def from_stations(cls, stations: pd.DataFrame, region: str = DEFAULT_REGION
                      ) -> StationArrays:
        cols = [c for c in STATION_PROPERTIES if c in stations]
        props = [{c: plain(v) for c, v in zip(cols, rec, strict=True)}
                 for rec in stations[cols].itertuples(index=False, name=None)]
        lon, lat = stations["lon"].to_numpy(float), stations["lat"].to_numpy(float)
        display = {}
        for crs in CRS_NAMES:
            x, y = from_wgs84(lon, lat, crs)
            display[crs] = np.round(np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]),
                                    6).tolist()
        names = stations["name"].astype(str).tolist()
        glon, glat = (np.atleast_1d(v).tolist() for v in wgs84_to_gcj02(lon, lat))
        blon, blat = (np.atleast_1d(v).tolist() for v in wgs84_to_bd09(lon, lat))
        return cls(props, stations["opening_hours"].astype(str).tolist(),
                   [amap_target(x, y, n) for x, y, n in zip(glon, glat, names, strict=True)],
                   [baidu_target(x, y, n) for x, y, n in zip(blon, blat, names, strict=True)],
                   display, region)
