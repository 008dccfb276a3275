"""The console's HTML pages and static files, served under a strict Content-Security-Policy."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from kefu.console.auth import session_of

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_FILES = {"console.js", "console.css", "login.js"}


def _html(name: str) -> web.Response:
    response = web.Response(text=(STATIC_DIR / name).read_text(encoding="utf-8"), content_type="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:;"
        " frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


async def page(request: web.Request) -> web.StreamResponse:
    if await session_of(request) is None:
        raise web.HTTPFound("/console/login")
    return _html("console.html")


async def login_page(request: web.Request) -> web.StreamResponse:
    return _html("login.html")


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    response = web.FileResponse(STATIC_DIR / name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
