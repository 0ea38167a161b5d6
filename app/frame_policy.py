"""Response security headers: a Content-Security-Policy that keeps scripts, styles, images and
connections to this origin (plus the configured tile server), with a per-request nonce for
the inline scripts; who may frame us (embeds: anyone configured; everything else: only us);
no MIME sniffing; a referrer policy that does not leak query strings; geolocation for the
page itself only; HSTS when the site is configured as served over HTTPS."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from markupsafe import Markup

from app.mapview import TILES

EMBED_BLUEPRINT = "embeds"
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)")


def csp_nonce() -> str:
    """This request's script nonce (templates: `nonce="{{ csp_nonce() }}"`)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def nonced(html: str) -> Markup:
    """Give every inline <script> in a block of HTML (folium's header) this request's nonce."""
    return Markup(_INLINE_SCRIPT.sub(f'<script nonce="{csp_nonce()}"', str(html)))


@lru_cache(maxsize=8)
def tile_source(tiles: str) -> str:
    """The CSP source for a tile server: its scheme and host, '{s}' subdomains as '*'."""
    if tiles not in TILES:
        return ""
    parts = urlsplit(TILES[tiles][0].replace("{s}", "x"))
    host = parts.hostname or ""
    if "{s}" in TILES[tiles][0]:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def policy(ancestors: str, nonce: str | None) -> str:
    tiles = tile_source(current_app.config["STATIONS_TILES"])
    script = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return "; ".join([
        "default-src 'self'", f"script-src {script}",
        "style-src 'self' 'unsafe-inline'",  # style attributes in markup and folium's header
        f"img-src 'self' data: blob: {tiles}".strip(), "connect-src 'self'",
        "worker-src 'self'", "manifest-src 'self'", "font-src 'self'", "object-src 'none'",
        "base-uri 'self'", "form-action 'self'", f"frame-ancestors {ancestors}"])


def _apply(response: Response) -> Response:
    """Embed routes: `frame-ancestors <config>` and no X-Frame-Options; others: same origin."""
    nonce = g.get("csp_nonce")
    if request.blueprint == EMBED_BLUEPRINT:
        response.headers["Content-Security-Policy"] = policy(
            current_app.config["STATIONS_FRAME_ANCESTORS"], nonce)
        response.headers.pop("X-Frame-Options", None)
    else:
        response.headers["Content-Security-Policy"] = policy("'self'", nonce)
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["Permissions-Policy"] = "geolocation=(self), camera=(), microphone=()"
    if current_app.config.get("STATIONS_HSTS"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def register(app: Flask) -> None:
    """Set the headers on every response; give templates the nonce helpers."""
    app.after_request(_apply)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["nonced"] = nonced
