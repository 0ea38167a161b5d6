"""Moderation for union staff at /admin/reports: approve or hide notes, resolve problems, export.

Credentials come from the environment: STATIONS_ADMIN_PASSWORD (HTTP Basic, any user name) or
STATIONS_ADMIN_TOKEN (`Authorization: Bearer …`). With neither set, every admin route answers
403: moderation is off. Each form carries a CSRF token signed with a key derived from the
credentials (so every worker and restart accepts it, and nobody without them can make one).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.i18n import STRINGS, current_lang
from app.pages.site import common
from app.state import current_atlas, store
from geo.errors import QueryError
from geo.io.export import csv_bytes
from geo.questions import parse_choice, parse_int
from geo.reports.db import ACTIONS
from geo.reports.parse import parse_since

bp = Blueprint("admin", __name__, url_prefix="/admin")
CSRF_MAX_AGE_S = 8 * 3600
PAGE_ROWS = 200
VIEWS = ("pending", "all")


def _secret() -> str | None:
    cfg = current_app.config
    return cfg.get("STATIONS_ADMIN_PASSWORD") or cfg.get("STATIONS_ADMIN_TOKEN")


def _authorised() -> bool:
    """Basic with the password, or Bearer with the token; constant-time comparisons."""
    cfg = current_app.config
    auth = request.authorization
    if auth is None:
        return False
    if auth.type == "basic" and cfg.get("STATIONS_ADMIN_PASSWORD"):
        return hmac.compare_digest((auth.password or "").encode(),
                                   cfg["STATIONS_ADMIN_PASSWORD"].encode())
    if auth.type == "bearer" and cfg.get("STATIONS_ADMIN_TOKEN"):
        return hmac.compare_digest((auth.token or "").encode(),
                                   cfg["STATIONS_ADMIN_TOKEN"].encode())
    return False


@bp.before_request
def _guard():
    if not _secret():
        abort(403, description="moderation is off: set STATIONS_ADMIN_PASSWORD or "
                               "STATIONS_ADMIN_TOKEN")
    if not _authorised():
        resp = Response(STRINGS[current_lang()]["admin_login"], 401,
                        {"WWW-Authenticate": 'Basic realm="moderation", charset="UTF-8"'},
                        mimetype="text/plain")
        abort(resp)
    return None


@bp.after_request
def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _signer() -> URLSafeTimedSerializer:
    key = hashlib.sha256(b"stations-csrf\0" + _secret().encode()).hexdigest()
    return URLSafeTimedSerializer(key, salt="moderation")


def csrf_token() -> str:
    return _signer().dumps("moderate")


def _check_csrf() -> None:
    try:
        _signer().loads(request.form.get("csrf", ""), max_age=CSRF_MAX_AGE_S)
    except BadSignature:
        abort(400, description="the form is stale or was not sent from this page: reload the "
                               "page and try again")


@bp.get("/reports")
def reports():
    """Reports, newest first, with their notes as text and buttons to act on them."""
    lang = current_lang()
    view = parse_choice("view", request.args.get("view"), VIEWS) or "pending"
    table = store().reports_table(limit=PAGE_ROWS, to_do=view == "pending")
    atlas = current_atlas()
    names = atlas.stations["name"].to_numpy()
    plain = table.astype(object).where(table.notna(), None)  # no NaN standing for "none"

    def name_of(station_id: str) -> str:
        i = atlas.positions.get(station_id)
        return "" if i is None else names[i]

    rows = [{**r, "station_name": name_of(r["station_id"])} for r in plain.to_dict("records")]
    return render_template("admin_reports.html", page="admin", rows=rows, view=view,
                           views=VIEWS, csrf=csrf_token(), map=None, embed=False,
                           **common(lang, current_app.config["STATIONS_TILES"]))


@bp.post("/reports/<int:report_id>")
def act(report_id: int):
    """Approve or hide a note, or resolve a problem; back to the list."""
    _check_csrf()
    action = parse_choice("action", request.form.get("action"), ACTIONS)
    if action is None:
        raise QueryError("action", f"action must be one of {', '.join(ACTIONS)}")
    actor = request.authorization.username or "token"
    store().moderate(report_id, action, actor)
    return redirect(url_for("admin.reports", lang=current_lang(),
                            view=request.form.get("view") or "pending"), code=303)


@bp.get("/reports.csv")
def export():
    """Every report (or those since a date) as CSV, formulas defused for spreadsheets."""
    table = store().reports_table(
        station_id=request.args.get("station") or None,
        since=parse_since(request.args.get("since")),
        limit=parse_int("limit", request.args.get("limit"), 1, 1_000_000, 1_000_000))
    return Response(csv_bytes(table), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=reports.csv"})
