"""What one console sees: the handoffs visible to its user, its board, and which live events reach it.

The rules are kefu/console/access.py's; everything that leaves here is ``redacted`` (no visitor ids).
"""
from __future__ import annotations

from typing import Any

from kefu.console.access import may_see
from kefu.console.redact import customer_label, redacted
from kefu.console.sessions import Session
from kefu.handoff.events import Board, Routed
from kefu.handoff.manager import HandoffManager
from kefu.handoff.state import Handoff
from kefu.handoff.teams import online_teams

ITEM_EVENTS = {"queued", "claimed", "finished", "merged", "inbox"}
OUTLINE = ("ticket_id", "status", "agent", "team")  # what an item event says of a ticket this console may not see


def visible(handoff: Handoff, session: Session, online: set[str]) -> bool:
    return may_see(handoff, session.user, online)


async def online(manager: HandoffManager) -> set[str]:
    """Teams with a member online now: a team's items are routed to it only then."""
    return online_teams(await manager.presence())


def row(handoff: Handoff) -> dict[str, Any]:
    """A board or inbox row: the summary, with its inbox status and a non-secret customer label."""
    return redacted(handoff.summary() | {
        "inbox_status": handoff.inbox_status,
        "customer_label": customer_label(handoff.customer_id, handoff.conversation_id),
    })


async def board(manager: HandoffManager, session: Session) -> Board:
    presence = await manager.presence()
    teams = online_teams(presence)
    active = [h for h in await manager.active_handoffs() if visible(h, session, teams)]
    return Board(
        me={"user": session.user.name, "role": session.user.role},
        queue=[row(h) for h in active if h.status == "waiting"],
        assigned=[row(h) for h in active if h.status == "assigned"],
        presence=presence,
    )


def forwardable(event: dict[str, Any], session: Session, followed: set[str]) -> bool:
    """Transcript messages and notes only of the tickets this console follows; every other event always."""
    if event.get("type") in {"message", "note"}:
        return session.user.supervisor or event.get("ticket") in followed
    return True


async def for_this_console(event: dict[str, Any], session: Session,
                           manager: HandoffManager) -> dict[str, Any] | None:
    """The event as this console may receive it, redacted; None when it must not see it at all.

    A queued item this console may not see (routed to another team) becomes ``routed``; any other event about
    an item it may not see (held by someone outside its teams, finished) keeps only the item's outline, so it
    leaves this board without showing what it is about. A message or note of such a ticket is dropped.
    """
    if session.user.supervisor:
        return redacted(event)
    kind = event.get("type")
    if kind in {"message", "note"}:
        handoff = await manager.handoff(str(event.get("ticket") or ""))
        if handoff is None or not visible(handoff, session, await online(manager)):
            return None
    elif kind in ITEM_EVENTS:
        item = event.get("item") or {}
        if not may_see(item, session.user, await online(manager)):
            if kind == "queued":
                return Routed(ticket_id=item.get("ticket_id"), team=str(item.get("team") or "")).to_dict()
            # It leaves this board (held by someone else, finished): say which, not what it is about.
            return {"type": kind, "item": {key: item.get(key) for key in OUTLINE}}
    return redacted(event)
