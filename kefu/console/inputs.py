"""Reading the console API's JSON bodies: a bad field is a 400 naming it, before any handoff is touched."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from kefu.console.errors import json_error
from kefu.core.untrusted import parse_json

MAX_TEXT = 4000


async def body(request: web.Request) -> dict[str, Any]:
    """The JSON object posted (an empty body is bad JSON)."""
    try:
        parsed = parse_json(await request.read())
    except ValueError:
        raise json_error(web.HTTPBadRequest, "bad_json") from None
    if not isinstance(parsed, dict):
        raise json_error(web.HTTPBadRequest, "bad_request")
    return parsed


def text(posted: dict[str, Any], field: str = "text") -> str:
    value = posted.get(field)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise json_error(web.HTTPBadRequest, f"{field}: 1-{MAX_TEXT} characters")
    return value.strip()


def due_at(posted: dict[str, Any], tz: ZoneInfo | None = None, field: str = "due_at") -> float:
    """Epoch seconds from ``<field>`` or, with ``tz``, a wall-clock time in the shop's time zone from
    ``<field-without-_at>_local`` ("2026-12-02T12:00", as a ``datetime-local`` input sends it)."""
    local = posted.get(field.removesuffix("_at") + "_local")
    if tz is not None and local is not None:
        try:
            return datetime.fromisoformat(str(local)).replace(tzinfo=tz).timestamp()
        except ValueError:
            raise json_error(web.HTTPBadRequest, f"{field.removesuffix('_at')}_local: YYYY-MM-DDTHH:MM") from None
    due = posted.get(field)
    if isinstance(due, bool) or not isinstance(due, int | float) or not 0 < due < 2**34:
        raise json_error(web.HTTPBadRequest, f"{field}: epoch seconds")
    return float(due)
