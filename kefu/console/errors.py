"""The console API's one error shape: ``{"error": code, ...}`` as JSON, with the HTTP status of the failure."""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_error(status: type[web.HTTPError], error: str, **extra: Any) -> web.HTTPError:
    """The exception to raise (e.g. ``raise json_error(web.HTTPConflict, "taken", ticket=ticket_id)``).

    Raising rather than returning lets the checks deep inside a handler (body parsing, team routing) stop it.
    """
    return status(text=json.dumps({"error": error} | extra), content_type="application/json")
