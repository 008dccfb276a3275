"""The console's read API and presence: who I am, the directory, the board, one ticket's packet, my status.

Everything a console receives is ``redacted`` (kefu/console/redact.py): no anonymous visitor id leaves here.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from kefu.console import board, inputs, sidebar
from kefu.console.errors import json_error
from kefu.console.presence import STATUSES, announce
from kefu.console.redact import redacted
from kefu.console.sessions import Session
from kefu.console.state import HANDOFF, SESSION, SETTINGS, USERS
from kefu.handoff.manager import RESOLUTIONS

DASHBOARD = "/console/dashboard"


def respond(data: Any) -> web.Response:
    return web.json_response(redacted(data))


async def me(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    user = session.user
    return respond({"user": user.name, "display_name": user.display_name, "role": user.role, "team": user.team,
                    "teams": list(user.teams), "csrf": session.csrf, "resolutions": list(RESOLUTIONS),
                    "locale": user.locale, "timezone": request.app[SETTINGS].shop.timezone,
                    "dashboard": DASHBOARD if user.supervisor else None})


async def directory(request: web.Request) -> web.StreamResponse:
    """Who and which teams a conversation can be transferred to."""
    users = request.app[USERS]
    agents = [{"name": u.name, "display_name": u.display_name, "role": u.role, "team": u.team}
              for u in await users.everyone()]
    return respond({"agents": agents, "teams": await users.teams()})


async def queue(request: web.Request) -> web.StreamResponse:
    snapshot = await board.board(request.app[HANDOFF], request[SESSION])
    return respond(snapshot.contents())


async def ticket(request: web.Request) -> web.StreamResponse:
    """The live context packet and the customer sidebar, for those the ticket is visible to (access.py):
    a finished one only for supervisors. Anything else is a 404, so ticket ids reveal nothing."""
    manager = request.app[HANDOFF]
    handoff = await manager.handoff(request.match_info["ticket"])
    if handoff is None or not board.visible(handoff, request[SESSION], await board.online(manager)):
        raise json_error(web.HTTPNotFound, "not_found")
    packet = await manager.packet(handoff.ticket_id)
    return respond(packet | {"sidebar": await sidebar.sidebar(manager.redis, handoff, packet)})


async def presence(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    status = (await inputs.body(request)).get("status")
    if status not in STATUSES:
        raise json_error(web.HTTPBadRequest, "status")
    await announce(request.app[HANDOFF], session.user, status)
    return web.json_response({"ok": True})
