"""Who may see and do what in the console (issue 9 #7): one rule set the API, the board and the socket share.

- Supervisors see and act on everything, finished tickets included.
- An agent sees what they hold, what waits in a queue routed to them (kefu/handoff/teams.py: their teams, a
  team-less item, or a team with nobody online, except the safety team's, which never falls back to everyone),
  and their teams' tickets held by a colleague (to follow them, not to act).
- Finished (closed, handed back) tickets' packets are a supervisor's only: ticket ids are sequential.
- Replying, closing, handing back, noting, snoozing, promising a follow-up: the holder or a supervisor.
"""
from __future__ import annotations

from typing import Any

from kefu.console.users import User
from kefu.handoff.state import Handoff
from kefu.handoff.teams import routed_to


def _shape(handoff: Handoff | dict[str, Any]) -> tuple[str, str, str]:
    """(status, agent, team) of a handoff or of its summary (what a console event carries)."""
    if isinstance(handoff, Handoff):
        return handoff.status, handoff.agent, handoff.team
    return str(handoff.get("status") or ""), str(handoff.get("agent") or ""), str(handoff.get("team") or "")


def may_see(handoff: Handoff | dict[str, Any], user: User, online: set[str]) -> bool:
    status, agent, team = _shape(handoff)
    if user.supervisor:
        return True
    if status == "waiting":
        return routed_to(team, user.teams, online)
    if status == "assigned":
        return agent == user.name or bool(team and team in user.teams)
    return False  # finished: a supervisor's


def may_claim(handoff: Handoff, user: User, online: set[str]) -> bool:
    return handoff.status == "waiting" and (user.supervisor or routed_to(handoff.team, user.teams, online))


def may_act(handoff: Handoff, user: User) -> bool:
    """Reply, close, hand back, note, snooze, follow up: the agent holding it, or a supervisor."""
    return user.supervisor or (handoff.status == "assigned" and handoff.agent == user.name)


def may_reroute(handoff: Handoff, user: User, online: set[str]) -> bool:
    """Send a handoff to another team: its holder, a supervisor, or (still waiting) an agent it is routed to."""
    return may_act(handoff, user) or may_claim(handoff, user, online)
