"""What only supervisors may do: the dashboard, scoring quality reviews. Wraps a handler already behind
``auth.signed_in`` (which sets the session)."""
from __future__ import annotations

from aiohttp import web

from kefu.console.auth import Handler
from kefu.console.errors import json_error
from kefu.console.state import SESSION


def supervisors_only(handler: Handler) -> Handler:
    """403 ``{"error": "supervisor"}`` for anyone else."""
    async def checked(request: web.Request) -> web.StreamResponse:
        if not request[SESSION].user.supervisor:
            raise json_error(web.HTTPForbidden, "supervisor")
        return await handler(request)
    return checked
