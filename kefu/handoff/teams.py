"""Which team's queue a handoff waits in, and who may take it: one rule shared by the board, the socket and claims.

A handoff with a team (safety reports start in the "safety" team; a transfer to a team sets it) is shown to and
claimable by that team's members first. If none of them is online (status "online", not "away"), every agent sees
and may take it, so nothing waits unseen; except a safety report, which only the safety team (and supervisors)
ever sees: when none of them is online the on-call rule pages someone instead (kefu/handoff/manager.py).
Handoffs without a team are for everyone; supervisors see everything. An agent may be in several teams: an
account's ``team`` field lists them comma-separated (team names never contain a comma).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

DEFAULT_TEAM = "general"
SAFETY_TEAM = "safety"
TEAM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
# The team a new handoff waits for, by its reason; reasons not listed wait for everyone ("").
REASON_TEAMS: dict[str, str] = {"safety": SAFETY_TEAM}
# Teams whose handoffs never fall back to everyone when none of their members is online.
CLOSED_TEAMS = frozenset({SAFETY_TEAM})


def team_for(reason: str) -> str:
    return REASON_TEAMS.get(reason, "")


def team_list(teams: str | Iterable[str]) -> tuple[str, ...]:
    """An account's teams from its stored form ("general,safety") or any iterable, in order, without repeats."""
    names = teams.split(",") if isinstance(teams, str) else teams
    return tuple(dict.fromkeys(name.strip() for name in names if name and name.strip())) or (DEFAULT_TEAM,)


def online_teams(presence: dict[str, dict[str, Any]]) -> set[str]:
    """Teams with at least one member online now (from HandoffStore.presence())."""
    return {team for p in presence.values() if p.get("status") == "online"
            for team in team_list(p.get("team") or DEFAULT_TEAM)}


def routed_to(item_team: str, user_teams: str | Iterable[str], online: set[str]) -> bool:
    """True when a waiting handoff of ``item_team`` is in this agent's queue view (and the agent may claim it)."""
    if not item_team or item_team in team_list(user_teams):
        return True
    return item_team not in CLOSED_TEAMS and item_team not in online
