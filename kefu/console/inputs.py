"""Reading the console API's JSON bodies: a bad field is a 400 naming it, before any handoff is touched."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from kefu.console.errors import json_error

MAX_TEXT = 4000


async def body(request: web.Request) -> dict[str, Any]:
    """The JSON object posted (an empty body is bad JSON)."""
    try:
        parsed = await request.json()
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


def due_at(posted: dict[str, Any]) -> float:
    due = posted.get("due_at")
    if isinstance(due, bool) or not isinstance(due, int | float) or not 0 < due < 2**34:
        raise json_error(web.HTTPBadRequest, "due_at: epoch seconds")
    return float(due)
