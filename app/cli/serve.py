"""Serving commands: the web app (granian, gunicorn or Flask's) and fetching a street graph."""

from __future__ import annotations

import os
from pathlib import Path

import click

from app.cli.group import SAMPLE_NOTE, cli, graph_options


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="TCP port.")
@click.option("--tiles", type=click.Choice(["osm", "amap", "none"]), default=None,
              help="Base map (default: $STATIONS_TILES or osm).")
@click.option("--dev", is_flag=True, help="Flask's development server instead.")
@click.option("--server", "server_", type=click.Choice(["granian", "gunicorn"]),
              default="granian", show_default=True,
              help="The production server: granian, a Rust HTTP server "
                   "(app/cli/granian_conf.py), or gunicorn (gunicorn.conf.py).")
@graph_options
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, tiles: str | None, dev: bool,
          server_: str, graph: str | None, mode: str) -> None:
    """Run the web app: granian (app/cli/granian_conf.py) or gunicorn, or --dev for Flask's."""
    env = {"STATIONS_BIND": f"{host}:{port}"}
    if ctx.obj["data"]:
        env |= {"STATIONS_DATA": ctx.obj["data"], "STATIONS_DATA_CRS": ctx.obj["crs"]}
    if tiles:
        env["STATIONS_TILES"] = tiles
    if graph:
        env[f"STATIONS_GRAPH_{mode.upper()}"] = graph
    os.environ.update(env)
    if not os.environ.get("STATIONS_DATA"):  # the embedded dataset is the sample
        click.echo(SAMPLE_NOTE)
    if not dev and server_ == "granian":
        import sys

        from app import create_app
        from app.cli.granian_conf import command

        argv = command(sys.executable)  # a bad setting stops here, in one error line
        create_app()  # and so does data that does not load (granian's workers would loop)
        click.echo(f"starting granian on http://{host}:{port}/")
        os.execv(argv[0], argv)
    if not dev:
        from app.cli import gunicorn_server

        click.echo(f"starting gunicorn ({gunicorn_server.CONF.name}) on http://{host}:{port}/")
        gunicorn_server.run()
        return
    from app import create_app

    app = create_app()
    click.echo(f"serving on http://{host}:{port}/ (development server; Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False, load_dotenv=False)


@cli.command("fetch-network")
@click.option("--place", required=True, help='A place name OpenStreetMap knows, e.g. '
              '"上海市, 中国" or "杨浦区, 上海市, 中国".')
@click.option("--mode", type=click.Choice(["walk", "bike"]), default="walk", show_default=True)
@click.option("--out", required=True, metavar="FILE.graphml", help="Where to save the graph.")
def fetch_network(place: str, mode: str, out: str) -> None:
    """Download a street graph with osmnx (needs the internet; the only command that does)."""
    import osmnx as ox

    if not out.lower().endswith(".graphml"):
        raise click.UsageError(f"{out}: the output must be a .graphml file")
    click.echo(f"downloading the {mode} network of {place} from OpenStreetMap ...", err=True)
    try:
        G = ox.graph_from_place(place, network_type=mode)
    except (ConnectionError, OSError) as exc:
        raise click.ClickException(f"could not reach OpenStreetMap (offline?): "
                                   f"{str(exc).splitlines()[0]}") from exc
    except Exception as exc:  # osmnx raises its own types for unknown places and bad answers
        name = type(exc).__name__
        if "Connection" in name or "Timeout" in name:
            raise click.ClickException(f"could not reach OpenStreetMap (offline?): {exc}") \
                from exc
        raise click.ClickException(f"OpenStreetMap could not give a graph for {place!r}: "
                                   f"{str(exc).splitlines()[0]}") from exc
    path = Path(out)
    tmp = path.with_name(path.name + ".part")
    ox.save_graphml(G, tmp)
    tmp.replace(path)
    click.echo(f"wrote {G.number_of_nodes():,} nodes and {G.number_of_edges():,} edges to "
               f"{out}; use it with --graph {out} --mode {mode}")


