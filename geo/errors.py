"""Every error a user can mend, in one hierarchy: `GeoError(ValueError)` and its kinds.

A `GeoError` is the user's to fix (a bad parameter, file, graph or dataset); anything else that
escapes is a bug. The web app turns a GeoError into a 4xx JSON answer (status from the class)
and the CLI into one `error:` line with exit 2, each in one place (`app/serving/errors.py`,
`app/cli/group.py`). They live here, apart from the modules that raise them, so that any
layer can raise or catch one without importing another layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class GeoError(ValueError):
    """Something the user can mend; `param` names the parameter or file at fault, if any."""

    status = 400  # the HTTP status this kind of error becomes
    param: str | None = None

    def __init__(self, message: str = "", param: str | None = None) -> None:
        super().__init__(message)
        if param is not None:
            self.param = param

    def as_json(self) -> dict:
        """The body of its HTTP answer: the message, and the parameter when one is named."""
        return {"error": str(self), **({"param": self.param} if self.param else {})}


class QueryError(GeoError):
    """A bad parameter: `param` names it, the message says what would be accepted."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message, param)
        self.message = message


@dataclass
class StationFileError(GeoError):
    """A problem in a station file, located by row (1-based), id and field."""

    path: str
    row: int | None
    field: str | None
    message: str
    station_id: str | None = None
    more: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        where = [Path(self.path).name]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.station_id:
            where.append(f"(id {self.station_id!r})")
        if self.field:
            where.append(f"field {self.field!r}")
        extra = f" (and {len(self.more)} more problems)" if self.more else ""
        return f"{' '.join(where)}: {self.message}{extra}"


class TableError(GeoError):
    """The file cannot be read as a table: wrong type, unreadable, or no header found."""

    param = "file"


class NetworkError(GeoError):
    """A street graph that cannot be used (or is not loaded), with the reason."""


class DatasetError(GeoError):
    """A dataset directory or version that does not exist or cannot be used."""


class HoursFormError(GeoError):
    """A clerk's hours that cannot be read; the message names the part not understood."""


class OsmPlacesError(GeoError):
    """An unreadable OSM file or an unknown --hosts name."""


class SettingError(GeoError):
    """A setting (an environment variable or server option) whose value cannot be used;
    `param` names it."""


def _row_key(row: object) -> tuple:
    """Rows in the order the clerk reads them: numbers first, by value."""
    return (0, row, "") if isinstance(row, int) else (1, 0, str(row))


@dataclass
class DemandFileError(GeoError):
    """Rows of a demand file that cannot be placed: each names the row (or the band and pixel
    window of a raster) as the clerk sees it, the column, the value and the reason."""

    path: str
    problems: list[dict]  # {"row", "column", "value", "reason"}
    param = "file"

    def __post_init__(self) -> None:
        self.problems = sorted(self.problems, key=lambda p: (str(p.get("sheet", "")),
                                                             _row_key(p.get("row"))))

    def __str__(self) -> str:
        first = self.problems[0]
        where = " ".join(str(x) for x in (first.get("row") and f"row {first['row']}",
                                          first.get("column") and f"column {first['column']!r}")
                         if x)
        more = len(self.problems) - 1
        extra = f" (and {more} more problems)" if more else ""
        return f"{Path(self.path).name}: {where + ': ' if where else ''}{first['reason']}{extra}"
