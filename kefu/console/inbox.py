"""The agents' inbox (issue 12 #7): views (mine, unassigned, my team, all) by status (open, pending the
customer, snoozed, resolved), and search; ``GET /console/api/inbox?view=&status=&q=``.

Every row is one the agent may see (kefu/console/access.py): resolved tickets and the "all" view are a
supervisor's. A search looks through every status the agent may see, whatever the view.
"""
from __future__ import annotations

from aiohttp import web

from kefu.console import board, search
from kefu.console.access import may_see
from kefu.console.errors import json_error
from kefu.console.state import HANDOFF, SESSION
from kefu.console.users import User
from kefu.handoff.manager import HandoffManager
from kefu.handoff.state import INBOX_VIEWS, Handoff

VIEWS = ("mine", "unassigned", "team", "all")
RESOLVED_SHOWN = 200


def in_view(handoff: Handoff, user: User, view: str) -> bool:
    if view == "mine":
        return handoff.agent == user.name and handoff.status != "waiting"
    if view == "unassigned":
        return handoff.status == "waiting"
    if view == "team":
        return bool(handoff.team) and handoff.team in user.teams
    return user.supervisor  # "all"


async def _candidates(manager: HandoffManager, user: User, resolved: bool) -> list[Handoff]:
    """Every handoff this agent may see: the active ones, and for a supervisor the recent finished ones."""
    online = await board.online(manager)
    found = [h for h in await manager.active_handoffs() if may_see(h, user, online)]
    if resolved and user.supervisor:
        found += [h for h in await manager.recent_handoffs(RESOLVED_SHOWN) if not h.active]
    return found


async def inbox(request: web.Request) -> web.StreamResponse:
    user = request[SESSION].user
    view = request.query.get("view", "mine")
    status = request.query.get("status", "open")
    query = request.query.get("q", "").strip()
    if view not in VIEWS:
        raise json_error(web.HTTPBadRequest, "view", allowed=list(VIEWS))
    if status not in INBOX_VIEWS:
        raise json_error(web.HTTPBadRequest, "status", allowed=list(INBOX_VIEWS))
    if len(query) > search.MAX_QUERY:
        raise json_error(web.HTTPBadRequest, f"q: at most {search.MAX_QUERY} characters")
    if (view == "all" or status == "resolved") and not user.supervisor:
        raise json_error(web.HTTPForbidden, "supervisor")
    manager = request.app[HANDOFF]
    if query:
        found = await search.matches(manager, await _candidates(manager, user, resolved=True), query)
        return web.json_response({"query": query, "items": [board.row(h) for h in found]})
    candidates = [h for h in await _candidates(manager, user, resolved=status == "resolved")
                  if h.inbox_status == status]
    counts = {name: sum(1 for h in candidates if in_view(h, user, name)) for name in VIEWS
              if name != "all" or user.supervisor}
    items = [board.row(h) for h in candidates if in_view(h, user, view)]
    return web.json_response({"view": view, "status": status, "items": items, "counts": counts})
