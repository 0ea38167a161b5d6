"""The atlas: everything loaded once (stations, districts, demand, indexes) for every query."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import geopandas as gpd
import pandas as pd

from geo.errors import DatasetError
from geo.hours import TIMEZONE
from geo.index.cells import CellGrid
from geo.index.nearest import NearestIndex
from geo.index.presence import Presence
from geo.index.station_arrays import StationArrays
from geo.io.datasets import data_paths, demand_sources, load_presence_tables, load_tables
from geo.io.stations import is_sample
from geo.schema import SEGMENTS, SERVES, STATION_TYPES


@dataclass
class Atlas:
    """Stations, districts and demand with their spatial index, shared by CLI, web and notebooks."""

    stations: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    demand: pd.DataFrame
    index: NearestIndex
    networks: dict = field(default_factory=dict)  # mode -> geo.index.network.StreetNetwork
    demand_sources: dict = field(default_factory=lambda: dict.fromkeys(SEGMENTS, "sample"))
    # hourly presence: shares by segment and kind of day, and cells with their own profile
    profiles: pd.DataFrame = field(default_factory=lambda: load_presence_tables()[0])
    cell_hours: pd.DataFrame | None = None

    @classmethod
    def load(cls, data: str | Path | None = None, crs: str = "wgs84") -> Atlas:
        """Load a dataset directory or station file; districts and demand fall back to defaults."""
        stations, districts, demand = load_tables(data, crs)
        profiles, cell_hours = load_presence_tables(data)
        return cls(stations, districts, demand, NearestIndex(stations),
                   demand_sources=demand_sources(data_paths(data)[0]),
                   profiles=profiles, cell_hours=cell_hours)

    def demand_source(self, station_type: str) -> str:
        """Where the workers a station type serves came from: `sample` or the file's name."""
        names = dict.fromkeys(self.demand_sources[s] for s in SERVES[station_type])
        return ", ".join(names)

    def sample_parts(self, station_type: str | None = None) -> list[str]:
        """Which parts of an answer are sample data: `stations`, `demand`, both or none."""
        segs = SERVES[station_type] if station_type else SEGMENTS
        return ([*(["stations"] if self.is_sample else []),
                 *(["demand"] if any(self.demand_sources[s] == "sample" for s in segs)
                   else [])])

    def provenance(self, station_type: str) -> dict:
        """What every answer about a station type says of its data: whether any of it is
        sample (`sample`), which parts (`sample_parts`) and where the workers came from."""
        parts = self.sample_parts(station_type)
        return {"sample": bool(parts), "sample_parts": parts,
                "demand_source": self.demand_source(station_type)}

    def add_network(self, path: str | Path, mode: str = "walk") -> None:
        """Load a street graph for a mode (walk or bike) from a local file."""
        from geo.index.network import StreetNetwork

        self.networks[mode] = StreetNetwork.from_file(path, mode)

    def network(self, mode: str):
        """The street network for a mode, or a clear error naming what to load."""
        from geo.errors import NetworkError

        if mode not in self.networks:
            loaded = ", ".join(sorted(self.networks)) or "none"
            raise NetworkError(f"no {mode} street network is loaded (loaded: {loaded}); "
                               f"start with --graph FILE --mode {mode}", param="mode")
        return self.networks[mode]

    @cached_property
    def type_counts(self) -> dict[str, int]:
        """Stations by type, counted once (the health check asks on every poll)."""
        return {str(k): int(v) for k, v in self.stations["type"].value_counts().items()}

    @cached_property
    def positions(self) -> dict[str, int]:
        """Each station id's row position: a lookup per request, not a scan of the table."""
        return {sid: i for i, sid in enumerate(self.stations["id"].astype(str))}

    def station(self, station_id: str) -> pd.DataFrame | None:
        """The one-row table of the station with this id, or None."""
        i = self.positions.get(station_id)
        return None if i is None else self.stations.iloc[[i]]

    @cached_property
    def grid(self) -> CellGrid:
        """Demand cells as arrays (centres, areas, neighbours), built on first use."""
        return CellGrid(self.demand)

    @cached_property
    def presence(self) -> Presence:
        """Who is there at each hour: what every answer with a time counts."""
        return Presence.from_tables(self.profiles, self.cell_hours)

    @cached_property
    def arrays(self):
        """Per-station values prepared once for the nearest-station hot path."""
        return StationArrays.from_stations(self.stations, self.region)

    @property
    def region(self) -> str:
        """The city the map apps should route in: the station file's top-level "region"."""
        from geo.navigation import DEFAULT_REGION

        return str(self.stations.attrs.get("region") or DEFAULT_REGION)

    @cached_property
    def timezone(self) -> ZoneInfo:
        """The zone the station hours are written in: the station file's top-level "timezone"
        (an IANA name), else China's."""
        name = self.stations.attrs.get("timezone")
        if not name:
            return TIMEZONE
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            raise DatasetError(f"the station file's timezone {str(name)[:60]!r} is not an IANA "
                               "time zone name such as Asia/Shanghai") from None

    @cached_property
    def version(self) -> str:
        """A short hash of the stations, districts and demand: cache keys and versioned URLs."""
        h = hashlib.sha1(self.stations.drop(columns="geometry").to_json().encode())
        h.update(self.districts.drop(columns="geometry").to_json().encode())
        for table in (self.demand, self.profiles, self.cell_hours):
            if table is not None and len(table):
                h.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
        return h.hexdigest()[:12]

    @property
    def data_date(self) -> str | None:
        """The date the station list is as of (its `updated` member), shown beside answers."""
        value = self.stations.attrs.get("updated")
        return str(value)[:10] if value else None

    @cached_property
    def is_sample(self) -> bool:
        """Whether any station is sample data, which every output must then say."""
        return is_sample(self.stations)

    def counts(self) -> pd.DataFrame:
        """Stations per district (rows) and type (columns), with totals."""
        table = pd.crosstab(self.stations["district"], self.stations["type"])
        table = table.reindex(columns=list(STATION_TYPES), fill_value=0)
        table["total"] = table.sum(axis=1)
        table.loc["total"] = table.sum()
        return table


