"""Read a clerk's list as a table of text: CSV (UTF-8, with or without BOM, or GBK/GB18030),
XLSX/XLS/ODS (python-calamine), GeoJSON or GeoPackage. Every cell stays text; row numbers are
the ones the clerk sees in Excel (header row 1, first data row 2), per sheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo.errors import TableError
from geo.io.clerk_words import header_field

SPREADSHEET = (".xlsx", ".xlsm", ".xls", ".ods")
TEXT = (".csv", ".txt", ".tsv")
GEO = (".geojson", ".json", ".gpkg")
MAX_HEADER_SEARCH = 10  # title rows above the header are skipped, up to this many


@dataclass
class RawTable:
    """Text cells with the clerk's own headers, where each row came from, and how it was read."""

    frame: pd.DataFrame  # one column per header, all str
    rows: list[int]  # the row number the clerk sees, per frame row
    sheets: list[str]  # the sheet of each row ("" for CSV)
    source: str
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding name: UTF-8 (BOM or not) first, then GB18030 (a superset of GBK)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc), ("utf-8" if enc == "utf-8-sig" else enc)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise TableError("the file is not text in a known encoding (UTF-8 or GBK)")
    return str(best), best.encoding


@dataclass(frozen=True)
class Headers:
    """What a header row looks like: which cells are known column names, and what to say when
    no row has two of them."""

    field: Callable[[object], str | None] = header_field
    expected: str = "名称, 地址, 经度, 纬度 (or name, address, lng, lat)"


STATION_HEADERS = Headers()


def _header_index(rows: list[list[str]], headers: Headers) -> int:
    """The first row (of the first few) in which at least two cells are known headers."""
    for i, row in enumerate(rows[:MAX_HEADER_SEARCH]):
        if sum(headers.field(c) is not None for c in row if str(c).strip()) >= 2:
            return i
    raise TableError(f"no header row found: expected column names such as {headers.expected} "
                     "in one of the first rows")


def _header_names(cells) -> list[str]:
    """The clerk's headers, with a name for a blank one ("column 3")."""
    return [str(c).strip() or f"column {j + 1}" for j, c in enumerate(cells)]


def _frame(rows: list[list[str]], sheet: str, headers: Headers
           ) -> tuple[pd.DataFrame, list[int], list[str]]:
    """Rows below the header as text, blank rows dropped, with Excel row numbers."""
    h = _header_index(rows, headers)
    header = _header_names(rows[h])
    data, numbers = [], []
    for i, row in enumerate(rows[h + 1:], start=h + 2):
        cells = [("" if c is None else str(c)).strip() for c in row]
        if not any(cells):
            continue
        cells = (cells + [""] * len(header))[:len(header)]
        data.append(cells)
        numbers.append(i)
    return pd.DataFrame(data, columns=header, dtype=object), numbers, [sheet] * len(numbers)


def _cell(value: object) -> str:
    """A spreadsheet cell as the text the clerk sees (no '121.0' for whole numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def read_csv(path: Path, headers: Headers = STATION_HEADERS) -> RawTable:
    """A CSV (or TSV) in UTF-8 or GBK, delimiter sniffed."""
    text, enc = decode(path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t，")
    except csv.Error:
        dialect = csv.excel
    fast = _fast_csv(text, dialect, headers)
    if fast is not None:
        frame, numbers = fast
        return RawTable(frame, numbers, [""] * len(numbers), path.name, enc)
    rows = list(csv.reader(io.StringIO(text), dialect))
    frame, numbers, sheets = _frame(rows, "", headers)
    return RawTable(frame, numbers, sheets, path.name, enc)


def _fast_csv(text: str, dialect, headers: Headers) -> tuple[pd.DataFrame, list[int]] | None:
    """The same table through pandas' C parser (a million rows in about a second), or None
    for what it reads differently (ragged rows, an unusual delimiter): then the csv module."""
    head = list(csv.reader(io.StringIO("\n".join(text.splitlines()[:MAX_HEADER_SEARCH])),
                           dialect))
    h = _header_index(head, headers)
    try:
        raw = pd.read_csv(io.StringIO(text), sep=dialect.delimiter, header=None, dtype=str,
                          keep_default_na=False, skip_blank_lines=False, engine="c",
                          quotechar=dialect.quotechar or '"', skiprows=h)
    except (pd.errors.ParserError, ValueError):
        return None
    if raw.shape[1] != len(head[h]):
        return None
    raw = raw.apply(lambda c: c.str.strip())
    header = _header_names(raw.iloc[0])
    data = raw.iloc[1:]
    data = data[(data != "").any(axis=1)]
    numbers = (data.index.to_numpy() + h + 1).tolist()  # Excel's row numbers
    frame = pd.DataFrame(data.to_numpy(dtype=object), columns=header, dtype=object)
    return frame, numbers


def read_spreadsheet(path: Path, sheet: str | None = None,
                     headers: Headers = STATION_HEADERS) -> RawTable:
    """One named sheet, or every sheet that has a header row (types may sit on separate sheets)."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        raise TableError(f"cannot read as a spreadsheet: {exc}") from exc
    names = book.sheet_names
    if sheet is not None and sheet not in names:
        raise TableError(f"no sheet {sheet!r}; the sheets are {', '.join(names)}")
    frames, numbers, sheets, notes = [], [], [], []
    for name in [sheet] if sheet else names:
        rows = [[_cell(c) for c in r] for r in book.get_sheet_by_name(name).to_python()]
        if not any(any(str(c).strip() for c in r) for r in rows):
            continue
        try:
            f, n, s = _frame(rows, name, headers)
        except TableError:
            if sheet:
                raise
            notes.append(f"sheet {name!r} skipped: no header row")
            continue
        frames.append(f)
        numbers += n
        sheets += s
    if not frames:
        raise TableError(f"no sheet with a header row such as {headers.expected}")
    frame = pd.concat(frames, ignore_index=True).fillna("").astype(object)
    return RawTable(frame, numbers, sheets, path.name, None, notes)


def read_geo(path: Path) -> RawTable:
    """GeoJSON or GeoPackage points: properties as text plus lon/lat columns."""
    from geo.io.stations import _read_geojson, _read_gpkg

    df, lon, lat, _ = (_read_geojson if path.suffix.lower() != ".gpkg" else _read_gpkg)(path)
    frame = df.astype(object).where(df.notna(), "")
    if "amenities" in frame:
        frame["amenities"] = [";".join(v) if isinstance(v, list) else v
                              for v in frame["amenities"]]
    frame = frame.map(_cell)
    frame["lon"] = ["" if pd.isna(v) else repr(float(v)) for v in lon]
    frame["lat"] = ["" if pd.isna(v) else repr(float(v)) for v in lat]
    return RawTable(frame, list(range(1, len(frame) + 1)), ["feature"] * len(frame), path.name)


def read_table(path: str | Path, sheet: str | None = None,
               headers: Headers = STATION_HEADERS) -> RawTable:
    """Any supported list, by its extension."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in TEXT:
        return read_csv(path, headers)
    if suffix in SPREADSHEET:
        return read_spreadsheet(path, sheet, headers)
    if suffix in GEO:
        from geo.errors import StationFileError

        try:
            return read_geo(path)
        except StationFileError as exc:
            raise TableError(exc.message) from exc
    raise TableError(f"{path.name}: use a .csv, .xlsx, .xls, .geojson or .gpkg file")
