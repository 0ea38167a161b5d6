"""`stations demand import` and `stations demand profiles`: a union's own worker demand and
hourly presence in place of the sample, each as a new version of the dataset (all or
nothing), with a report of where every worker went."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from app.cli.data import column_mapping, default_lang, write_table
from app.cli.group import cli, format_table
from app.i18n import LANGS
from geo.analysis.demand_spread import MODES, WEIGHTS, DemandImport, import_demand
from geo.coords import CRS_NAMES
from geo.errors import DemandFileError
from geo.io.datasets import (
    data_paths,
    demand_sources,
    file_digest,
    load_presence_tables,
    load_tables,
    write_demand_version,
    write_profiles_version,
)
from geo.io.demand_files import read_demand
from geo.io.demand_profiles import merge_profiles, read_profiles
from geo.schema import SEGMENTS

PROBLEM_COLUMNS = {"en": ["sheet", "row", "column", "value", "reason"],
                   "zh": ["工作表", "行", "列", "值", "原因"]}
WORDS = {
    "en": {"read": "read", "placed": "placed in cells", "outside": "outside the dataset's land",
           "rows": "rows", "method": "method", "dry": "ok (dry run): nothing written",
           "done": "imported as version {v}, now live in {d}",
           "cols": ["code", "district", "before", "after"],
           "profile_cols": ["segment", "day", "mean share", "busiest hour"]},
    "zh": {"read": "读取", "placed": "落入网格", "outside": "落在本数据集陆域之外",
           "rows": "行", "method": "方法", "dry": "检查通过（试运行）：未写入任何文件",
           "done": "已导入为版本 {v}，已在 {d} 生效",
           "cols": ["代码", "区", "导入前", "导入后"],
           "profile_cols": ["人群", "日类型", "平均在岗比例", "最多的小时"]},
}


def print_demand_report(result: DemandImport, lang: str, report: str | None) -> None:
    """Totals, what fell outside (with its rows) and each district before and after."""
    w, r = WORDS[lang], result.report
    click.echo(f"{r['kind']}: {w['read']} {r['total_read']:,}, {w['placed']} "
               f"{r['total_placed']:,}, {w['outside']} {r['outside']:,} "
               f"({w['method']}: {r['method']})")
    if r["outside_row_count"]:
        shown = ", ".join(map(str, r["outside_rows"][:20]))
        more = r["outside_row_count"] - min(20, len(r["outside_rows"]))
        click.echo(f"{w['outside']}: {w['rows']} {shown}{f' … (+{more})' if more else ''}")
    rows = [[d["code"], d["name"], d["before"], d["after"]] for d in r["by_district"]]
    click.echo(format_table(w["cols"], rows))
    if report:
        save_report(Path(report), pd.DataFrame(rows, columns=w["cols"]), r)


def print_problems(exc: DemandFileError, lang: str, report: str | None) -> None:
    """Every bad row as a table (the error line follows), and in the report file if asked."""
    cols = PROBLEM_COLUMNS[lang]
    rows = [[p.get("sheet", ""), p.get("row", ""), p.get("column", ""), p.get("value", ""),
             p["reason"]] for p in exc.problems]
    click.echo(format_table(cols, rows), err=True)
    if report:
        save_report(Path(report), pd.DataFrame(rows, columns=cols), {"problems": exc.problems})


def save_report(path: Path, table: pd.DataFrame, whole: dict) -> None:
    """A report file: the whole report as JSON, or its table as CSV/XLSX, by extension."""
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(whole, ensure_ascii=False, indent=1), "utf-8")
    else:
        write_table(table, path)


@cli.group()
def demand() -> None:
    """Worker demand: import a union's own counts in place of the sample."""


def import_options(report_help: str):
    """What every demand import takes: the dataset, a dry run, a report file, the language."""
    def wrap(f):
        for option in reversed([
                click.option("--dataset", default=None, metavar="DIR", help="Versioned "
                             "dataset directory (default: --data / STATIONS_DATA)."),
                click.option("--dry-run", is_flag=True, help="Check and report only; write "
                             "nothing."),
                click.option("--report", default=None, metavar="FILE.json|.csv|.xlsx",
                             help=report_help),
                click.option("--lang", type=click.Choice(list(LANGS)), default=None,
                             help="Report language (default: from the locale).")]):
            f = option(f)
        return f
    return wrap


@demand.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@import_options("Write the report (totals, outside rows, districts before and after).")
@click.option("--segment", type=click.Choice(SEGMENTS), default="outdoor", show_default=True,
              help="The workers the file counts (an H3 table may have a column per segment).")
@click.option("--count", default=None, metavar="COLUMN",
              help="The count column (default: 人数/数量/count/workers…; points: 1 per row).")
@click.option("--crs", type=click.Choice(CRS_NAMES), default="wgs84", show_default=True,
              help="Datum of the file's coordinates.")
@click.option("--mode", type=click.Choice(MODES), default="replace",
              show_default=True, help="replace: the segment becomes the file's counts "
              "everywhere (cells not in it become 0); add: added to the live counts.")
@click.option("--weight-by", type=click.Choice(WEIGHTS), default="area", show_default=True,
              help="Polygons: spread by area, or by the live demand inside (dasymetric).")
@click.option("--sheet", default=None, help="One sheet of a workbook.")
@click.option("--map", "mapping", multiple=True, metavar="COLUMN=FIELD",
              help="Read a column as a field (lon, lat, coords, h3, count, district).")
@click.pass_context
def import_demand_cmd(ctx: click.Context, path: str, dataset: str | None, segment: str,
                      count: str | None, crs: str, mode: str, weight_by: str,
                      sheet: str | None, mapping: tuple[str, ...], dry_run: bool,
                      report: str | None, lang: str | None) -> None:
    """Import points, an H3 table, polygons, a GeoTIFF or a district table as the demand of
    one segment, in a new live version (all or nothing; exit 2 naming the bad rows)."""
    lang = lang or default_lang()
    target = dataset or ctx.obj.get("data")
    if not target and not dry_run:
        raise click.UsageError("--dataset DIR is required (or --data / STATIONS_DATA)")
    _, districts, live = load_tables(target)
    try:
        source = read_demand(path, crs=crs, count=count, sheet=sheet,
                             mapping=column_mapping(mapping))
        result = import_demand(source, live, districts, segment, mode, weight_by,
                               demand_sources(data_paths(target)[0] if target else None),
                               load_presence_tables(target)[1])
    except DemandFileError as exc:  # bad rows (an unknown district is found in placing)
        print_problems(exc, lang, report)
        raise
    print_demand_report(result, lang, report)
    if dry_run:
        click.echo(WORDS[lang]["dry"])
        return
    version = write_demand_version(target, result.demand, result.meta,
                                   cell_hours=result.cell_hours)
    click.echo(WORDS[lang]["done"].format(v=version, d=target))


@demand.command("profiles")
@click.argument("path", type=click.Path(dir_okay=False))
@import_options("Write the bad rows, if any, to a file.")
@click.pass_context
def profiles_cmd(ctx: click.Context, path: str, dataset: str | None, dry_run: bool,
                 report: str | None, lang: str | None) -> None:
    """Import presence profiles (segment, day = weekday|weekend|holiday, hour 0-23, share
    0..1): the share of a cell's workers there at each hour. Rows the file leaves out keep
    their live shares; a new live version (all or nothing; exit 2 naming the bad rows)."""
    lang = lang or default_lang()
    target = dataset or ctx.obj.get("data")
    if not target and not dry_run:
        raise click.UsageError("--dataset DIR is required (or --data / STATIONS_DATA)")
    try:
        new = read_profiles(path)
    except DemandFileError as exc:
        print_problems(exc, lang, report)
        raise
    table = merge_profiles(load_presence_tables(target)[0], new)
    rows = [[seg, day, f"{g['share'].mean():.3f}", int(g['share'].idxmax() - g.index[0])]
            for (seg, day), g in table.groupby(["segment", "day"], sort=False)]
    click.echo(format_table(WORDS[lang]["profile_cols"], rows))
    if dry_run:
        click.echo(WORDS[lang]["dry"])
        return
    version = write_profiles_version(target, table, {
        "source": Path(path).name, "sha256": file_digest(path), "rows": len(new),
        "segments": sorted(set(new["segment"]))})
    click.echo(WORDS[lang]["done"].format(v=version, d=target))
