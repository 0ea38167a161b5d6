"""`stations import`, `validate`, `datasets` and `export`: a clerk's list in, checked, versioned.

Exit status 2 and nothing written when any row has an error; the report names every problem
by the row the clerk sees in Excel, in Chinese or English.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
import pandas as pd

from app.cli.group import cli, format_table
from app.i18n import LANGS
from geo.atlas import Atlas
from geo.coords import check_crs
from geo.io.clerk_import import ImportResult, import_table
from geo.io.clerk_table import read_table
from geo.io.clerk_words import TYPES
from geo.io.datasets import DEFAULT_DATA_DIR, list_versions, live_dir, use_version, write_version
from geo.io.districts import load_districts
from geo.io.export import template_frame

REPORT_COLUMNS = {"en": ["level", "sheet", "row", "column", "value", "reason", "hint"],
                  "zh": ["级别", "工作表", "行", "列", "值", "原因", "建议"]}
LEVELS = {"zh": {"error": "错误", "warning": "提醒", "info": "说明"},
          "en": {"error": "error", "warning": "warning", "info": "info"}}


def default_lang() -> str:
    """Chinese when the locale says so (LANG=zh_CN.UTF-8), English otherwise."""
    loc = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "zh" if loc.lower().startswith("zh") else "en"


def report_frame(result: ImportResult, lang: str) -> pd.DataFrame:
    """The problems as a table with the clerk's row numbers, in the chosen language."""
    rows = [[LEVELS[lang][p.level], p.sheet, p.row if p.row is not None else "", p.column,
             p.value, p.reason(lang), p.hint(lang)] for p in result.problems]
    return pd.DataFrame(rows, columns=REPORT_COLUMNS[lang])


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """CSV (UTF-8 with BOM, so Excel shows Chinese) or XLSX by extension."""
    if path.suffix.lower() == ".xlsx":
        frame.to_excel(path, index=False)
    elif path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        raise click.UsageError(f"{path.name}: use a .csv or .xlsx file")


def column_mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    """--map 列名=field pairs."""
    out = {}
    for pair in pairs:
        col, sep, field = pair.partition("=")
        if not sep or not col.strip() or not field.strip():
            raise click.UsageError(f"--map takes column=field, got {pair!r}")
        out[col.strip()] = field.strip()
    return out


def check_file(path: str, type_: str | None, crs: str, sheet: str | None,
               mapping: tuple[str, ...], dedupe: bool) -> ImportResult:
    """Read and check one list against the embedded districts."""
    if type_ is not None and type_ not in TYPES:
        raise click.UsageError(f"--type must be one of {', '.join(TYPES)}")
    table = read_table(path, sheet)
    districts = load_districts(DEFAULT_DATA_DIR / "districts.geojson")
    return import_table(table, districts, type_=type_, crs=check_crs(crs),
                        mapping=column_mapping(mapping), dedupe=dedupe, source=Path(path).name)


def print_report(result: ImportResult, lang: str, report: str | None) -> None:
    """Errors and warnings on the terminal; the report file also keeps every conversion."""
    frame = report_frame(result, lang)
    loud = frame[[p.level != "info" for p in result.problems]] if len(frame) else frame
    if len(loud):
        shown = loud.head(200)
        click.echo(format_table(list(frame.columns), shown.values.tolist()), err=True)
        if len(loud) > len(shown):
            click.echo(f"... {len(loud) - len(shown)} more in the report file", err=True)
    if report:
        write_table(frame, Path(report))


def import_options(func):
    for opt in reversed([
        click.option("--type", "type_", default=None, help="relay, health or fitness (when "
                     "the file has no type column)."),
        click.option("--crs", default="wgs84", show_default=True,
                     help="Datum of the file's coordinates: wgs84, gcj02 (Amap) or bd09."),
        click.option("--sheet", default=None, help="One sheet of a workbook (default: all "
                     "sheets with a header row)."),
        click.option("--map", "mapping", multiple=True, metavar="COLUMN=FIELD",
                     help="Read a column as a field, e.g. --map 站点=name."),
        click.option("--dedupe", is_flag=True, help="Keep the first of duplicate stations."),
        click.option("--report", default=None, metavar="FILE.csv|.xlsx",
                     help="Write every problem to this file."),
        click.option("--lang", type=click.Choice(list(LANGS)), default=None,
                     help="Report language (default: from the locale)."),
    ]):
        func = opt(func)
    return func


@cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@import_options
@click.option("--dataset", default=None, metavar="DIR", help="Versioned dataset directory "
              "(default: --data / STATIONS_DATA).")
@click.option("--dry-run", is_flag=True, help="Check and report only; write nothing.")
@click.pass_context
def import_(ctx: click.Context, path: str, type_: str | None, crs: str, sheet: str | None,
            mapping: tuple[str, ...], dedupe: bool, report: str | None, lang: str | None,
            dataset: str | None, dry_run: bool) -> None:
    """Import a CSV/XLSX/GeoJSON list as a new live version of a dataset (all or nothing)."""
    lang = lang or default_lang()
    result = check_file(path, type_, crs, sheet, mapping, dedupe)
    print_report(result, lang, report)
    if not result.ok:
        n = len(result.errors)
        click.echo(f"导入失败：{n} 个错误，未写入任何文件" if lang == "zh" else
                   f"import failed: {n} errors; nothing was written", err=True)
        sys.exit(2)
    counts = result.stations["type"].value_counts().to_dict()
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    if dry_run:
        click.echo(f"ok (dry run): {len(result.stations):,} stations ({summary})")
        return
    target = dataset or ctx.obj.get("data")
    if not target:
        raise click.UsageError("--dataset DIR is required (or --data / STATIONS_DATA)")
    version = write_version(target, result.stations, Path(path), crs)
    click.echo(f"imported {len(result.stations):,} stations ({summary}) as version {version}, "
               f"now live in {target}")


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False))
@import_options
def validate(path: str, type_: str | None, crs: str, sheet: str | None,
             mapping: tuple[str, ...], dedupe: bool, report: str | None,
             lang: str | None) -> None:
    """Check a station list (CSV, XLSX, GeoJSON, GeoPackage) and report every problem."""
    lang = lang or default_lang()
    result = check_file(path, type_, crs, sheet, mapping, dedupe)
    print_report(result, lang, report)
    if not result.ok:
        sys.exit(2)
    counts = result.stations["type"].value_counts().to_dict()
    click.echo(f"ok: {len(result.stations):,} stations "
               f"({', '.join(f'{k} {v}' for k, v in counts.items())}); coordinates read as "
               f"{crs}, stored as WGS-84")


@cli.command()
@click.option("--dataset", default=None, metavar="DIR")
@click.option("--use", "use", default=None, metavar="VERSION", help="Make this version live.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def datasets(ctx: click.Context, dataset: str | None, use: str | None, as_json: bool) -> None:
    """List a dataset's versions (oldest first), or roll back / forward with --use."""
    target = dataset or ctx.obj.get("data")
    if not target:
        raise click.UsageError("--dataset DIR is required (or --data / STATIONS_DATA)")
    if use:
        use_version(target, use)
        click.echo(f"{use} is now live in {target} (restart the server, or kill -HUP it)")
        return
    versions = list_versions(target)
    if as_json:
        click.echo(json.dumps([{k: v[k] for k in ("version", "created", "stations", "source",
                                                  "demand", "profiles", "live")} for v in versions],
                              ensure_ascii=False, indent=1))
        return
    rows = [["*" if v["live"] else "", v["version"], v["created"], v["stations"],
             ", ".join(f"{k} {n}" for k, n in v["by_type"].items()), v["source"], v["crs"]]
            for v in versions]
    click.echo(format_table(["live", "version", "created", "stations", "types", "source",
                             "crs"], rows))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "geojson"]), default="xlsx",
              show_default=True)
@click.option("-o", "--output", required=True, metavar="FILE")
@click.pass_context
def export(ctx: click.Context, fmt: str, output: str) -> None:
    """Write the live stations in the import template's layout (import -> export -> import
    gives the same dataset)."""
    atlas = Atlas.load(ctx.obj.get("data"))
    out = Path(output)
    if fmt == "geojson":
        src = live_dir(ctx.obj.get("data") or DEFAULT_DATA_DIR) / "stations.geojson"
        out.write_bytes(src.read_bytes())
    else:
        frame = template_frame(atlas.stations)
        if fmt == "csv":
            frame.to_csv(out, index=False, encoding="utf-8-sig")
        else:
            frame.to_excel(out, index=False, sheet_name="stations")
    click.echo(f"wrote {len(atlas.stations):,} stations to {out}")


@cli.command("import-osm")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--hosts", default="bank,post_office,pharmacy,convenience,supermarket,"
              "community_centre", show_default=True, help="Which OSM places to take.")
@click.option("--as", "as_", type=click.Choice(["candidates", "stations"]),
              default="candidates", show_default=True,
              help="candidates: GeoJSON points for the planner; stations: a draft list in "
                   "the import template's layout (.xlsx or .csv).")
@click.option("--type", "type_", type=click.Choice(list(TYPES)), default="relay",
              show_default=True, help="Station type of a draft list.")
@click.option("-o", "--output", required=True, metavar="FILE")
def import_osm(path: str, hosts: str, as_: str, type_: str, output: str) -> None:
    """Real places from an OpenStreetMap extract (.osm / .osm.pbf) as candidate sites or a
    draft station list; places without usable opening_hours are flagged."""
    from geo.io.osm_places import candidates_geojson, counts, parse_hosts, read_places, station_rows

    places = read_places(path, parse_hosts(hosts))
    out = Path(output)
    if as_ == "candidates":
        if out.suffix.lower() not in (".geojson", ".json"):
            raise click.UsageError("candidates are written as .geojson")
        out.write_text(json.dumps(candidates_geojson(places), ensure_ascii=False), "utf-8")
    else:
        rows = pd.DataFrame(station_rows(places, type_))
        if rows.empty:
            rows = pd.DataFrame(columns=["id", "name", "type", "host", "lon", "lat",
                                         "opening_hours", "source", "flag"])
        frame = template_frame(rows.assign(district="", address="", phone="", capacity=pd.NA,
                                           amenities=[[] for _ in range(len(rows))]))
        frame["问题"] = rows["flag"].to_numpy()
        write_table(frame, out)
    flagged = sum(bool(p.flag) for p in places)
    click.echo(f"wrote {len(places):,} places to {out} "
               f"({', '.join(f'{k} {v}' for k, v in counts(places).items()) or 'none'}); "
               f"{flagged} flagged (no usable opening_hours or name)")
