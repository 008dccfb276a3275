"""The ``category`` verb (``POST /console/api/tickets/{id}/category {"category"}``): the agent holding the ticket,
or a supervisor, corrects what a complaint or safety report is about (kefu/handoff/categories.py)."""
from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from kefu.console.errors import json_error
from kefu.console.users import User
from kefu.handoff.categories import CATEGORIES
from kefu.handoff.manager import HandoffError, HandoffManager
from kefu.handoff.state import ClaimRefused, Handoff


class _Act(Protocol):
    """The parts of a verb's request this verb reads (kefu/console/verbs.py ``Act``)."""

    body: dict[str, Any]
    handoff: Handoff
    manager: HandoffManager
    user: User

    @property
    def ticket_id(self) -> str: ...

    @property
    def supervisor(self) -> bool: ...


async def category(act: _Act) -> Any:
    chosen = act.body.get("category")
    if chosen not in CATEGORIES:
        raise json_error(web.HTTPBadRequest, "category", allowed=list(CATEGORIES))
    if not act.supervisor and (act.handoff.status != "assigned" or act.handoff.agent != act.user.name):
        raise ClaimRefused(act.ticket_id)
    if await act.manager.tickets.set_category(act.ticket_id, chosen) is None:
        raise HandoffError(f"no ticket {act.ticket_id}")
    return {"ticket_id": act.ticket_id, "category": chosen}
