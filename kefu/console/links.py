"""The chats linked to a ticket's customer, and undoing a link from the console (issue 9 #2).

A WeChat or Telegram user who proved an order (kefu/channels/linking.py) writes as that customer. An agent who
sees the ticket (kefu/console/access.py ``may_see``) can list the customer's linked channels and unlink one
(a shared phone, a wrong person, the customer asks): that channel user's next message goes to its own channel
conversation again. Channel user ids (openids, chat ids) never reach the console: a link is named by its
channel, and unlinking a channel undoes every link of this customer on it.

- ``GET /console/api/tickets/{ticket}/links`` -> ``{"links": [{"channel": "telegram"}, ...]}``
- ``POST /console/api/tickets/{ticket}/links/{channel}/unlink`` -> ``{"ok": true, "channel", "unlinked": n}``

A ticket the agent may not see (or that does not exist) is a 403 either way, so ids reveal nothing.
"""
from __future__ import annotations

import logging
import re

from aiohttp import web

from kefu.channels.linking import Customers, UnlinkOutcome
from kefu.console import board
from kefu.console.auth import signed_in
from kefu.console.errors import json_error
from kefu.console.state import HANDOFF, SESSION
from kefu.handoff.state import Handoff

log = logging.getLogger(__name__)

CHANNEL = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


async def _visible_handoff(request: web.Request) -> Handoff:
    manager = request.app[HANDOFF]
    handoff = await manager.handoff(request.match_info["ticket"])
    if handoff is None or not board.visible(handoff, request[SESSION], await board.online(manager)):
        raise json_error(web.HTTPForbidden, "forbidden")
    return handoff


async def _linked(request: web.Request, handoff: Handoff) -> list[tuple[str, str]]:
    if not handoff.customer_id:
        return []  # an anonymous conversation: nobody linked it to a customer
    return await Customers(request.app[HANDOFF].redis, None).linked_users(handoff.customer_id)


async def links(request: web.Request) -> web.StreamResponse:
    handoff = await _visible_handoff(request)
    channels = sorted({channel for channel, _ in await _linked(request, handoff)})
    return web.json_response({"links": [{"channel": channel} for channel in channels]})


async def unlink(request: web.Request) -> web.StreamResponse:
    channel = request.match_info["channel"]
    if not CHANNEL.match(channel):
        raise json_error(web.HTTPBadRequest, "channel")
    handoff = await _visible_handoff(request)
    customers = Customers(request.app[HANDOFF].redis, None)
    unlinked = 0
    for user_channel, user_id in await _linked(request, handoff):
        if user_channel == channel and await customers.unlink(channel, user_id) is UnlinkOutcome.UNLINKED:
            unlinked += 1
    if not unlinked:
        raise json_error(web.HTTPConflict, "not_linked", channel=channel)
    log.info("agent %s unlinked %s %s user(s) from customer %s (ticket %s)", request[SESSION].user.name,
             unlinked, channel, handoff.customer_id, handoff.ticket_id)
    return web.json_response({"ok": True, "channel": channel, "unlinked": unlinked})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/console/api/tickets/{ticket}/links", signed_in(links)),
        web.post("/console/api/tickets/{ticket}/links/{channel}/unlink", signed_in(unlink)),
    ]
