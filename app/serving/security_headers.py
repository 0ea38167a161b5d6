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


def policy(ancestors: str, nonce: str | None, tiles: str) -> str:
    """The Content-Security-Policy for a page framed by `ancestors`, tiles from `tiles`."""
    tiles = tile_source(tiles)
    script = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return "; ".join([
        "default-src 'self'", f"script-src {script}",
        "style-src 'self' 'unsafe-inline'",  # style attributes in markup and folium's header
        f"img-src 'self' data: blob: {tiles}".strip(), "connect-src 'self'",
        "worker-src 'self'", "manifest-src 'self'", "font-src 'self'", "object-src 'none'",
        "base-uri 'self'", "form-action 'self'", f"frame-ancestors {ancestors}"])


def security_headers(config, embed: bool, nonce: str | None) -> list[tuple[str, str]]:
    """The security headers of one response: embeds may be framed by the configured
    ancestors (and carry no X-Frame-Options); everything else only by this origin."""
    ancestors = config["STATIONS_FRAME_ANCESTORS"] if embed else "'self'"
    headers = [("Content-Security-Policy", policy(ancestors, nonce, config["STATIONS_TILES"]))]
    if not embed:
        headers.append(("X-Frame-Options", "SAMEORIGIN"))
    headers += [("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "strict-origin-when-cross-origin"),
                ("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")]
    if config.get("STATIONS_HSTS"):
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers


def _apply(response: Response) -> Response:
    """Set this response's security headers (see `security_headers`)."""
    embed = request.blueprint == EMBED_BLUEPRINT
    if embed:
        response.headers.pop("X-Frame-Options", None)
    for name, value in security_headers(current_app.config, embed, g.get("csp_nonce")):
        response.headers[name] = value
    return response


def register(app: Flask) -> None:
    """Set the headers on every response; give templates the nonce helpers."""
    app.after_request(_apply)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["nonced"] = nonced
