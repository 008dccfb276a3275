"""The supervisor dashboard: its page (``/console/dashboard``; an agent's own reviews at ``/console/reviews``), its scripts and the vendored chart library, the
JSON numbers it draws (``/console/api/stats?from=&to=``), the same as CSV, and its texts in zh and en.

Supervisors only; the numbers come from kefu/console/stats.py, the page's labels from the locales.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import web

from kefu.console import pages
from kefu.console.auth import Handler, session_of, signed_in
from kefu.console.errors import json_error
from kefu.console.roles import supervisors_only
from kefu.console.state import HANDOFF, SESSION, SETTINGS
from kefu.console.stats import DateRange, RangeError, compute, csv_rows
from kefu.core.i18n import LANGUAGES, catalog, normalise_lang

VENDOR_DIR = pages.STATIC_DIR / "vendor"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".md": "text/plain"}
ASSETS = {"dashboard.js", "dashboard.css", "reviews.js"}
VENDOR = {"chart.umd.min.js", "chart.js-LICENSE.md", "kurkle-color-LICENSE.md"}
# The texts the dashboard and the QA page show: their own sections and the console's names of things.
TEXT_PREFIXES = ("dashboard.", "qa.", "category.", "console.priority.", "console.reason.", "console.channel.")


async def page(request: web.Request) -> web.StreamResponse:
    session = await session_of(request)
    if session is None:
        raise web.HTTPFound("/console/login")
    if not session.user.supervisor:
        raise web.HTTPForbidden(text="supervisors only")
    return pages._html("dashboard.html")


async def reviews_page(request: web.Request) -> web.StreamResponse:
    """Every agent's own quality reviews (kefu/console/qa.py ``mine``)."""
    if await session_of(request) is None:
        raise web.HTTPFound("/console/login")
    return pages._html("reviews.html")


def _file(path: Path) -> web.StreamResponse:
    response = web.FileResponse(path, headers={"Content-Type": f"{CONTENT_TYPES[path.suffix]}; charset=utf-8"})
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    return _file(pages.STATIC_DIR / name)


async def vendor(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in VENDOR:
        raise web.HTTPNotFound()
    return _file(VENDOR_DIR / name)


def _range(request: web.Request) -> DateRange:
    try:
        return DateRange.parse(request.query.get("from"), request.query.get("to"),
                               request.app[SETTINGS].shop.tz)
    except RangeError as error:
        raise json_error(web.HTTPBadRequest, str(error)) from None


async def stats(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    return web.json_response(await compute(_redis(request), _range(request), settings.service_levels))


async def stats_csv(request: web.Request) -> web.StreamResponse:
    span = _range(request)
    numbers = await compute(_redis(request), span, request.app[SETTINGS].service_levels)
    out = io.StringIO()
    csv.writer(out).writerows(csv_rows(numbers))
    response = web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="kefu-stats-{span.first.isoformat()}-{span.last.isoformat()}.csv"')
    return response


async def texts(request: web.Request) -> web.StreamResponse:
    """``?lang=zh|en``; without it the agent's chosen console language, else Chinese."""
    lang = request.query.get("lang") or getattr(request[SESSION].user, "locale", "") or ""
    if lang and lang not in LANGUAGES:
        raise json_error(web.HTTPBadRequest, "lang", allowed=list(LANGUAGES))
    lang = normalise_lang(lang)
    found = {key: text for key, text in catalog()[lang].items() if key.startswith(TEXT_PREFIXES)}
    return web.json_response({"lang": lang, "timezone": request.app[SETTINGS].shop.timezone, "texts": found})


def _redis(request: web.Request) -> aioredis.Redis:
    return request.app[HANDOFF].redis


def guarded(handler: Handler) -> Handler:
    return signed_in(supervisors_only(handler))


def routes() -> list[web.RouteDef]:
    return [
        web.get("/console/dashboard", page),
        web.get("/console/reviews", reviews_page),
        web.get("/console/dashboard/vendor/{name}", vendor),
        web.get("/console/dashboard/{name}", asset),
        web.get("/console/api/stats", guarded(stats)),
        web.get("/console/api/stats.csv", guarded(stats_csv)),
        web.get("/console/api/stats/texts", signed_in(texts)),
    ]
