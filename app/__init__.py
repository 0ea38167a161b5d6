"""The Flask web layer: pages and a JSON API over one in-memory atlas.

`create_app()` loads the dataset once; every request reads from `app.extensions["atlas"]`.
Production: `gunicorn -w 2 'app:create_app()'`.
"""

from __future__ import annotations

import time

from flask import Flask, current_app

from app.config import frame_ancestors, from_env
from app.json_provider import OrjsonProvider
from geo.atlas import Atlas


def current_atlas() -> Atlas:
    """The atlas this app loaded at start-up (every request reads from it)."""
    return current_app.extensions["atlas"]


def open_reports(app: Flask):
    """The reports database (STATIONS_DB_URL, else SQLite in the instance folder), its schema
    brought up to date before any request unless STATIONS_DB_UPGRADE is off."""
    from geo.reports import ReportStore
    from geo.reports_db import default_url, upgrade

    url = app.config.get("STATIONS_DB_URL") or default_url(app.instance_path)
    store = ReportStore(url)
    if app.config.get("STATIONS_DB_UPGRADE", True):
        upgrade(url)
    return store


def create_app(config: dict | None = None) -> Flask:
    """Application factory: config from the environment, overridden by `config`."""
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = 10 * 1024 * 1024  # a station list, scenario or candidates
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
    app.extensions["atlas"] = atlas
    if app.config.get("STATIONS_NATIONAL"):  # precomputed: the app never computes them
        from geo.national_results import NationalResults

        app.extensions["national"] = NationalResults.load(app.config["STATIONS_NATIONAL"])
    app.extensions["reports"] = open_reports(app)
    app.extensions["started"] = time.time()

    from app import (
        admin,
        api,
        assets,
        busy,
        compression,
        coverage_api,
        embeds,
        errors,
        frame_policy,
        health,
        heavy_processes,
        limits,
        national_pages,
        nearest_lane,
        oembed,
        offline,
        openapi,
        pages,
        planner_api,
        reports_api,
        request_rules,
        search_api,
        validate_api,
    )

    heavy = [coverage_api.bp, planner_api.bp, validate_api.bp]
    limits.register(app, heavy, writes=reports_api.bp)
    busy.register(app, heavy)
    app.register_blueprint(pages.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(coverage_api.bp)
    app.register_blueprint(planner_api.bp)
    app.register_blueprint(search_api.bp)
    app.register_blueprint(reports_api.bp)
    app.register_blueprint(validate_api.bp)
    app.register_blueprint(embeds.bp)
    app.register_blueprint(oembed.bp)
    app.register_blueprint(offline.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(national_pages.bp)
    app.register_blueprint(admin.bp)
    errors.register(app)
    request_rules.register(app)
    frame_policy.register(app)
    compression.register(app)
    assets.register(app)
    app.extensions["heavy_paths"] = busy.heavy_paths(app)
    heavy_processes.install(app)
    nearest_lane.install(app)
    return app
