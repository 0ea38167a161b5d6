"""The Flask web layer: pages and a JSON API over one in-memory atlas.

`create_app()` loads the dataset once; every request reads it through `app/state.py`.
Production: `stations serve` (gunicorn with gunicorn.conf.py, `app:create_app()`).
The views are imported inside the factory, so that `import app` (as the CLI does) stays light.
"""

from __future__ import annotations

import time

from flask import Flask

from app.config import frame_ancestors, from_env
from app.serving.json_provider import OrjsonProvider
from app.state import open_reports
from geo.atlas import Atlas

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # a station list, scenario or candidates


def create_app(config: dict | None = None) -> Flask:
    """Application factory: config from the environment, overridden by `config`."""
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    app.config.update(from_env())
    app.config.update(config or {})
    app.config["STATIONS_FRAME_ANCESTORS"] = frame_ancestors(
        app.config["STATIONS_FRAME_ANCESTORS"])
    atlas = Atlas.load(app.config["STATIONS_DATA"], crs=app.config["STATIONS_DATA_CRS"])
    for mode in ("walk", "bike"):
        if app.config.get(f"STATIONS_GRAPH_{mode.upper()}"):
            atlas.add_network(app.config[f"STATIONS_GRAPH_{mode.upper()}"], mode)
    atlas.grid.area_m2  # noqa: B018 - gap zones need cell areas: not in the first request
    atlas.arrays  # noqa: B018 - the nearest-station hot path, prepared before any request
    atlas.positions  # noqa: B018 - station ids to rows, for every per-station route
    atlas.timezone  # noqa: B018 - a bad time zone name stops the start, not a request
    app.extensions["atlas"] = atlas
    if app.config.get("STATIONS_NATIONAL"):  # precomputed: the app never computes them
        from geo.national.results import NationalResults

        app.extensions["national"] = NationalResults.load(app.config["STATIONS_NATIONAL"])
    app.extensions["reports"] = open_reports(app)
    app.extensions["started"] = time.time()
    _install_views(app)
    return app


def _install_views(app: Flask) -> None:
    """The blueprints, then the serving plumbing around them (order matters: limits and the
    heavy gate need the blueprints; the WSGI lanes wrap everything else)."""
    from app.api import (
        coverage,
        health,
        nearest_lane,
        openapi,
        planner,
        reports,
        schedule,
        search,
        stations,
        validate,
        write_lane,
    )
    from app.pages import admin, embeds, national, oembed, pwa, site
    from app.serving import (
        assets,
        busy,
        compression,
        errors,
        heavy_processes,
        limits,
        request_rules,
        security_headers,
    )

    heavy = (coverage.bp, planner.bp, schedule.bp, validate.bp)
    blueprints = (site.bp, health.bp, stations.bp, coverage.bp, planner.bp, schedule.bp,
                  search.bp,
                  reports.bp, validate.bp, embeds.bp, oembed.bp, pwa.bp, openapi.bp,
                  national.bp, admin.bp)
    limits.register(app, heavy, writes=reports.bp)
    busy.register(app, heavy)
    for bp in blueprints:
        app.register_blueprint(bp)
    errors.register(app)
    request_rules.register(app)
    security_headers.register(app)
    compression.register(app)
    assets.register(app)
    app.extensions["heavy_paths"] = busy.heavy_paths(app)
    heavy_processes.install(app)
    nearest_lane.install(app)
    write_lane.install(app)
