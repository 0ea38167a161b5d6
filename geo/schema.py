"""The station schema: the vocabularies every loader, filter and API validates against."""

from __future__ import annotations

import numpy as np

STATION_TYPES = ("relay", "health", "fitness")
AMENITIES = ("water", "microwave", "fridge", "charging", "ac", "toilet", "seating", "first_aid",
             "wifi")
HOSTS = ("bank", "telecom", "post", "pharmacy", "supermarket", "convenience", "subdistrict",
         "restaurant", "park", "building", "other")
SEGMENTS = ("outdoor", "office", "industrial")
AMENITY_BIT = {name: 1 << i for i, name in enumerate(AMENITIES)}

# Which worker segments each station type serves (the coverage issue builds on this).
SERVES = {"relay": ("outdoor",), "health": ("office", "industrial"),
          "fitness": ("office", "industrial")}

REQUIRED_FIELDS = ("id", "name", "type", "district", "district_code", "opening_hours")
OPTIONAL_FIELDS = ("address", "host", "amenities", "phone", "capacity", "source")
SAMPLE_SOURCE = "sample"

# A generous box around China: anything outside is a typo or swapped lat/lng.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)


def in_china(lon, lat):
    """Per point: finite and inside CHINA_BOUNDS (vectorised; NaN is outside)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    w, s, e, n = CHINA_BOUNDS
    return (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)


def amenity_bits(names: list[str] | frozenset[str] | tuple[str, ...]) -> int:
    """Pack amenity names into one integer so filters are a vectorised bitwise test."""
    return int(sum(AMENITY_BIT[n] for n in set(names)))


def amenity_names(bits: int) -> list[str]:
    """Unpack the bitmask back to names, in the schema's order."""
    return [n for n in AMENITIES if bits & AMENITY_BIT[n]]


def by_type(values: dict[str, float]) -> str:
    """Per-type defaults as help text reads them ("relay 1000, health 3000, fitness 2000"), so
    the CLI's and the API document's help never restate a number."""
    return ", ".join(f"{t} {values[t]:g}" for t in STATION_TYPES if t in values)
