"""Which team's queue a handoff waits in, and who may take it: one rule shared by the board, the socket and claims.

A handoff with a team (safety reports start in the "safety" team; a transfer to a team sets it) is shown to and
claimable by that team's members first. If none of them is online (status "online", not "away"), every agent sees
and may take it, so nothing waits unseen. Handoffs without a team are for everyone; supervisors see everything.
"""
from __future__ import annotations

import re
from typing import Any

DEFAULT_TEAM = "general"
SAFETY_TEAM = "safety"
TEAM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
# The team a new handoff waits for, by its reason; reasons not listed wait for everyone ("").
REASON_TEAMS: dict[str, str] = {"safety": SAFETY_TEAM}


def team_for(reason: str) -> str:
    return REASON_TEAMS.get(reason, "")


def online_teams(presence: dict[str, dict[str, Any]]) -> set[str]:
    """Teams with at least one member online now (from HandoffStore.presence())."""
    return {p.get("team") or DEFAULT_TEAM for p in presence.values() if p.get("status") == "online"}


def routed_to(item_team: str, user_team: str, online: set[str]) -> bool:
    """True when a waiting handoff of ``item_team`` is in this agent's queue view (and the agent may claim it)."""
    return not item_team or item_team == user_team or item_team not in online
