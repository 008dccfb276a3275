"""What one console sees: the handoffs visible to its user, its board, and which live events reach it.

Supervisors see everything; agents what they hold and the waiting items routed to them (kefu/handoff/teams.py).
"""
from __future__ import annotations

from typing import Any

from kefu.console.sessions import Session
from kefu.handoff.events import Board, Routed
from kefu.handoff.manager import HandoffManager
from kefu.handoff.state import Handoff
from kefu.handoff.teams import online_teams, routed_to


def visible(handoff: Handoff, session: Session, online: set[str]) -> bool:
    user = session.user
    if user.supervisor or handoff.agent == user.name:
        return True
    return handoff.status == "waiting" and routed_to(handoff.team, user.team, online)


async def online(manager: HandoffManager) -> set[str]:
    """Teams with a member online now: a team's items are routed to it only then."""
    return online_teams(await manager.presence())


async def board(manager: HandoffManager, session: Session) -> Board:
    presence = await manager.presence()
    teams = online_teams(presence)
    active = [h for h in await manager.active_handoffs() if visible(h, session, teams)]
    return Board(
        me={"user": session.user.name, "role": session.user.role},
        queue=[h.summary() for h in active if h.status == "waiting"],
        assigned=[h.summary() for h in active if h.status == "assigned"],
        presence=presence,
    )


def forwardable(event: dict[str, Any], session: Session, followed: set[str]) -> bool:
    """Transcript messages and notes only of the tickets this console follows; every other event always."""
    if event.get("type") in {"message", "note"}:
        return session.user.supervisor or event.get("ticket") in followed
    return True


async def for_this_console(event: dict[str, Any], session: Session, manager: HandoffManager) -> dict[str, Any]:
    """A queued item routed to another team (while one of its members is online) leaves this board instead."""
    item = event.get("item") or {}
    if event.get("type") != "queued" or session.user.supervisor or not item.get("team"):
        return event
    if routed_to(item["team"], session.user.team, await online(manager)):
        return event
    return Routed(ticket_id=item.get("ticket_id"), team=item["team"]).to_dict()
