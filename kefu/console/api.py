"""The console's read API and presence: who I am, the directory, the board, one ticket's packet, my status."""
from __future__ import annotations

from aiohttp import web

from kefu.console import board, inputs
from kefu.console.errors import json_error
from kefu.console.presence import STATUSES, announce
from kefu.console.sessions import Session
from kefu.console.state import HANDOFF, SESSION, USERS
from kefu.handoff.manager import RESOLUTIONS


async def me(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    return web.json_response({"user": session.user.name, "display_name": session.user.display_name,
                              "role": session.user.role, "team": session.user.team, "csrf": session.csrf,
                              "resolutions": list(RESOLUTIONS)})


async def directory(request: web.Request) -> web.StreamResponse:
    """Who and which teams a conversation can be transferred to."""
    users = request.app[USERS]
    agents = [{"name": u.name, "display_name": u.display_name, "role": u.role, "team": u.team}
              for u in await users.everyone()]
    return web.json_response({"agents": agents, "teams": await users.teams()})


async def queue(request: web.Request) -> web.StreamResponse:
    snapshot = await board.board(request.app[HANDOFF], request[SESSION])
    return web.json_response(snapshot.contents())


async def ticket(request: web.Request) -> web.StreamResponse:
    """The live context packet; an active handoff only for those it is visible to, a finished one for anyone."""
    manager = request.app[HANDOFF]
    handoff = await manager.handoff(request.match_info["ticket"])
    if handoff is None or not (
        board.visible(handoff, request[SESSION], await board.online(manager)) or not handoff.active
    ):
        raise json_error(web.HTTPNotFound, "not_found")
    return web.json_response(await manager.packet(handoff.ticket_id))


async def presence(request: web.Request) -> web.StreamResponse:
    session: Session = request[SESSION]
    status = (await inputs.body(request)).get("status")
    if status not in STATUSES:
        raise json_error(web.HTTPBadRequest, "status")
    await announce(request.app[HANDOFF], session.user, status)
    return web.json_response({"ok": True})
