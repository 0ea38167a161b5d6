"""POST /api/validate and the page that uses it: a clerk checks a list before it is imported.

Nothing is written: the upload goes to a temporary file, is read and checked exactly as
`stations import --dry-run` would, and is deleted. Importing stays a server-side command.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Blueprint, jsonify, request

from app.i18n import DEFAULT_LANG, LANGS
from app.serving.busy import checkpoint
from app.state import current_atlas
from geo.analysis.demand_spread import MODES, WEIGHTS, import_demand
from geo.coords import from_wgs84
from geo.errors import DemandFileError, QueryError, TableError
from geo.io.clerk_import import import_table
from geo.io.clerk_table import GEO, SPREADSHEET, TEXT, read_table
from geo.io.demand_files import RASTER, read_demand
from geo.questions import parse_choice, parse_crs
from geo.schema import SEGMENTS, STATION_TYPES

bp = Blueprint("validate_api", __name__, url_prefix="/api")
MAX_UPLOAD_MB = 10
SUFFIXES = (*TEXT, *SPREADSHEET, *GEO)
KINDS = ("stations", "demand")


@contextmanager
def saved(upload, suffix: str) -> Iterator[Path]:
    """The upload in a temporary file, deleted after; a file that cannot be read as a table is
    a 400 naming the upload (not the temporary path)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        upload.save(path)
        try:
            yield path
        except TableError as exc:
            raise QueryError("file", str(exc).replace(str(path), upload.filename)) from None


@bp.post("/validate")
def validate():
    """The import report for an uploaded list or demand file; nothing is written."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise QueryError("file", "upload the list as the multipart field 'file'")
    kind = parse_choice("kind", request.form.get("kind"), KINDS) or "stations"
    suffix = Path(upload.filename).suffix.lower()
    allowed = (*SUFFIXES, *RASTER) if kind == "demand" else SUFFIXES
    if suffix not in allowed:
        raise QueryError("file", f"use a {', '.join(allowed)} file, got {upload.filename!r}")
    if kind == "demand":
        return jsonify(_demand(upload, suffix))
    type_ = parse_choice("type", request.form.get("type"), STATION_TYPES)
    crs = parse_crs("crs", request.form.get("crs"))
    lang = parse_choice("lang", request.form.get("lang"), LANGS) or DEFAULT_LANG
    out_crs = parse_crs("out_crs", request.form.get("out_crs"))
    sheet = (request.form.get("sheet") or "").strip() or None
    atlas = current_atlas()
    checkpoint()
    with saved(upload, suffix) as path:
        result = import_table(read_table(path, sheet), atlas.districts, type_=type_, crs=crs,
                              source=upload.filename)
    bad_rows = {(p.sheet, p.row) for p in result.errors}
    points = []
    for pt in result.points:
        x, y = (round(float(v), 7) for v in from_wgs84(pt["lon"], pt["lat"], out_crs))
        points.append({**pt, "x": x, "y": y, "error": (pt["sheet"], pt["row"]) in bad_rows})
    counts = (result.stations["type"].value_counts().to_dict()
              if result.stations is not None else {})
    return jsonify({"ok": result.ok, "rows": result.rows, "stations": counts,
                    "errors": len(result.errors),
                    "warnings": len(result.warnings),
                    "problems": [p.as_dict(lang) for p in result.problems],
                    "points": points, "crs": crs, "file": upload.filename})


def _demand(upload, suffix: str) -> dict:
    """What `stations demand import --dry-run` would report for the upload."""
    segment = parse_choice("segment", request.form.get("segment"), SEGMENTS) or "outdoor"
    mode = parse_choice("mode", request.form.get("mode"), MODES) or "replace"
    weight_by = parse_choice("weight_by", request.form.get("weight_by"), WEIGHTS) or "area"
    crs = parse_crs("crs", request.form.get("crs"))
    count = (request.form.get("count") or "").strip() or None
    sheet = (request.form.get("sheet") or "").strip() or None
    atlas = current_atlas()
    checkpoint()
    with saved(upload, suffix) as path:
        try:
            source = read_demand(path, crs=crs, count=count, sheet=sheet)
            source.name = upload.filename
            result = import_demand(source, atlas.demand, atlas.districts, segment, mode,
                                   weight_by, atlas.demand_sources)
        except DemandFileError as exc:
            problems = [{"level": "error", "sheet": p.get("sheet", ""), "row": p.get("row"),
                         "column": p.get("column", ""), "value": p.get("value", ""),
                         "reason": p["reason"], "hint": "", "code": "demand"}
                        for p in exc.problems]
            return {"ok": False, "kind": "demand", "rows": None, "errors": len(problems),
                    "warnings": 0, "problems": problems, "file": upload.filename}
    rows = len(source.rows) if source.rows else int(source.grid.values.size)
    return {"ok": True, "kind": "demand", "rows": rows, "errors": 0, "warnings": 0,
            "problems": [], "demand": result.report, "file": upload.filename}
