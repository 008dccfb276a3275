"""What an agent does to one ticket (``POST /console/api/tickets/{id}/{verb}``): a table of verb -> handler.

claim | reply | note | transfer ({"to": agent} or {"team": team}) | close ({"resolution"}) | handback |
followup ({"due_at": epoch seconds, "what": text}) | followup_done. 409 when another agent holds the ticket
(``taken``) or the manager refuses; an unknown verb is 404.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kefu.console import board, inputs
from kefu.console.errors import json_error
from kefu.console.state import HANDOFF, SESSION, USERS
from kefu.console.users import User
from kefu.handoff.manager import HandoffError, HandoffManager
from kefu.handoff.state import ClaimRefused
from kefu.handoff.teams import TEAM_NAME, routed_to


@dataclass(frozen=True)
class Act:
    """One verb's request: who acts, on which ticket, with what body."""

    request: web.Request
    manager: HandoffManager
    user: User
    ticket_id: str
    body: dict[str, Any]


Verb = Callable[[Act], Awaitable[Any]]  # returns the JSON-ready result


async def claim(act: Act) -> Any:
    await _routed_here(act)
    return (await act.manager.claim(act.ticket_id, act.user.name, act.user.display_name)).summary()


async def _routed_here(act: Act) -> None:
    """A team's waiting item is only claimable by its members while one of them is online (teams.py)."""
    handoff = await act.manager.handoff(act.ticket_id)
    if handoff is None or act.user.supervisor:
        return
    if handoff.status == "waiting" and not routed_to(handoff.team, act.user.team, await board.online(act.manager)):
        raise json_error(web.HTTPConflict, "team", team=handoff.team, ticket=act.ticket_id)


async def reply(act: Act) -> Any:
    message = await act.manager.reply(act.ticket_id, act.user.name, inputs.text(act.body), act.user.supervisor)
    return message.to_dict()


async def note(act: Act) -> Any:
    return await act.manager.note(act.ticket_id, act.user.name, inputs.text(act.body))


async def transfer(act: Act) -> Any:
    """To a team when the body names one, else to the named agent."""
    users = act.request.app[USERS]
    if act.body.get("team") is not None:
        team = str(act.body["team"])
        if not TEAM_NAME.match(team) or team not in await users.teams():
            raise HandoffError("no such team")
        return (await act.manager.transfer_to_team(act.ticket_id, act.user.name, team, act.user.supervisor)).summary()
    target = await users.get(str(act.body.get("to") or ""))
    if target is None:
        raise HandoffError("no such agent")
    return (await act.manager.transfer(act.ticket_id, act.user.name, target.name, act.user.supervisor)).summary()


async def close(act: Act) -> Any:
    resolution = str(act.body.get("resolution") or "")
    return (await act.manager.close(act.ticket_id, act.user.name, resolution, act.user.supervisor)).summary()


async def handback(act: Act) -> Any:
    return (await act.manager.hand_back(act.ticket_id, act.user.name, act.user.supervisor)).summary()


async def followup(act: Act) -> Any:
    promised = await act.manager.promise_followup(
        act.ticket_id, act.user.name, inputs.due_at(act.body), inputs.text(act.body, "what"))
    return promised.to_dict()


async def followup_done(act: Act) -> Any:
    return await act.manager.followup_kept(act.ticket_id, act.user.name)


VERBS: dict[str, Verb] = {
    "claim": claim, "reply": reply, "note": note, "transfer": transfer, "close": close, "handback": handback,
    "followup": followup, "followup_done": followup_done,
}


async def act(request: web.Request) -> web.StreamResponse:
    """Run the verb; ``{"ok": true, "result": ...}``."""
    ticket_id, verb = request.match_info["ticket"], request.match_info["action"]
    handler = VERBS.get(verb)
    if handler is None:
        raise json_error(web.HTTPNotFound, "not_found")
    body = await inputs.body(request) if request.can_read_body else {}
    try:
        result = await handler(Act(request, request.app[HANDOFF], request[SESSION].user, ticket_id, body))
    except ClaimRefused:
        raise json_error(web.HTTPConflict, "taken", ticket=ticket_id) from None
    except HandoffError as error:
        raise json_error(web.HTTPConflict, str(error)) from None
    return web.json_response({"ok": True, "result": result})

