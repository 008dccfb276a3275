"""What an agent does to one ticket (``POST /console/api/tickets/{id}/{verb}``): a table of verb -> handler.

claim | reply | note | transfer ({"to": agent} or {"team": team}) | close ({"resolution"}) | handback |
followup ({"due_at": epoch seconds} or {"due_local": shop time}, "what") | followup_done |
status ({"status": "open" | "pending" | "snoozed", "until" or "until_local" for a snooze}).

Who may (kefu/console/access.py): a ticket the agent may not see is a 404 (a waiting one routed to another
team: 409 ``team``); acting on one held by someone else is 409 ``taken``; a bad body is 400; an unknown verb 404.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kefu.console import board, inputs
from kefu.console.access import may_claim, may_reroute, may_see
from kefu.console.category_verb import category
from kefu.console.errors import json_error
from kefu.console.redact import redacted
from kefu.console.state import HANDOFF, SESSION, SETTINGS, USERS
from kefu.console.users import User
from kefu.handoff.manager import HandoffError, HandoffManager
from kefu.handoff.state import INBOX_STATES, ClaimRefused, Handoff
from kefu.handoff.teams import TEAM_NAME


@dataclass(frozen=True)
class Act:
    """One verb's request: who acts, on which ticket (as it was when the request came), with what body."""

    request: web.Request
    manager: HandoffManager
    user: User
    handoff: Handoff
    online: set[str]
    body: dict[str, Any]

    @property
    def ticket_id(self) -> str:
        return self.handoff.ticket_id

    @property
    def supervisor(self) -> bool:
        return self.user.supervisor


Verb = Callable[[Act], Awaitable[Any]]  # returns the JSON-ready result


async def claim(act: Act) -> Any:
    return (await act.manager.claim(act.ticket_id, act.user.name, act.user.display_name)).summary()


async def reply(act: Act) -> Any:
    message = await act.manager.reply(act.ticket_id, act.user.name, inputs.text(act.body), act.supervisor)
    return message.to_dict()


async def note(act: Act) -> Any:
    return await act.manager.note(act.ticket_id, act.user.name, inputs.text(act.body), act.supervisor)


async def transfer(act: Act) -> Any:
    """To a team when the body names one (a still-waiting handoff too: re-routed), else to the named agent."""
    users = act.request.app[USERS]
    if act.body.get("team") is not None:
        team = str(act.body["team"])
        if not TEAM_NAME.match(team) or team not in await users.teams():
            raise HandoffError("no such team")
        routed = act.handoff.status == "waiting" and may_reroute(act.handoff, act.user, act.online)
        return (await act.manager.transfer_to_team(act.ticket_id, act.user.name, team, act.supervisor,
                                                   waiting_ok=routed)).summary()
    target = await users.get(str(act.body.get("to") or ""))
    if target is None:
        raise HandoffError("no such agent")
    return (await act.manager.transfer(act.ticket_id, act.user.name, target.name, act.supervisor)).summary()


async def close(act: Act) -> Any:
    resolution = str(act.body.get("resolution") or "")
    return (await act.manager.close(act.ticket_id, act.user.name, resolution, act.supervisor)).summary()


async def handback(act: Act) -> Any:
    return (await act.manager.hand_back(act.ticket_id, act.user.name, act.supervisor)).summary()


def _shop_tz(act: Act) -> Any:
    return act.request.app[SETTINGS].shop.tz


async def followup(act: Act) -> Any:
    promised = await act.manager.promise_followup(
        act.ticket_id, act.user.name, inputs.due_at(act.body, _shop_tz(act)), inputs.text(act.body, "what"),
        act.supervisor)
    return promised.to_dict()


async def followup_done(act: Act) -> Any:
    return await act.manager.followup_kept(act.ticket_id, act.user.name, act.supervisor)


async def status(act: Act) -> Any:
    """Pending the customer, snoozed until a time (it comes back to open then), or open again."""
    wanted = str(act.body.get("status") or "")
    if wanted not in INBOX_STATES:
        raise json_error(web.HTTPBadRequest, "status", allowed=list(INBOX_STATES))
    until = inputs.due_at(act.body, _shop_tz(act), "until") if wanted == "snoozed" else 0.0
    return (await act.manager.set_inbox(act.ticket_id, act.user.name, wanted, until, act.supervisor)).summary()


VERBS: dict[str, Verb] = {
    "claim": claim, "reply": reply, "note": note, "transfer": transfer, "close": close, "handback": handback,
    "followup": followup, "followup_done": followup_done, "status": status,
    "category": category,  # kefu/console/category_verb.py
}


async def _admitted(request: web.Request, manager: HandoffManager, user: User) -> tuple[Handoff, set[str]]:
    """The ticket, if this agent may see it; a waiting one routed to another team is named (409 ``team``)."""
    handoff = await manager.handoff(request.match_info["ticket"])
    if handoff is None:
        raise json_error(web.HTTPNotFound, "not_found")
    online = await board.online(manager)
    if handoff.status == "waiting" and not may_claim(handoff, user, online):
        raise json_error(web.HTTPConflict, "team", team=handoff.team, ticket=handoff.ticket_id)
    if not may_see(handoff, user, online):
        raise json_error(web.HTTPNotFound, "not_found")
    return handoff, online


async def act(request: web.Request) -> web.StreamResponse:
    """Run the verb; ``{"ok": true, "result": ...}``."""
    ticket_id, verb = request.match_info["ticket"], request.match_info["action"]
    handler = VERBS.get(verb)
    if handler is None:
        raise json_error(web.HTTPNotFound, "not_found")
    body = await inputs.body(request) if request.can_read_body else {}
    manager, user = request.app[HANDOFF], request[SESSION].user
    handoff, online = await _admitted(request, manager, user)
    try:
        result = await handler(Act(request, manager, user, handoff, online, body))
    except ClaimRefused:
        raise json_error(web.HTTPConflict, "taken", ticket=ticket_id) from None
    except HandoffError as error:
        raise json_error(web.HTTPConflict, str(error)) from None
    return web.json_response(redacted({"ok": True, "result": result}))
