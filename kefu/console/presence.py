"""An agent's presence as every console sees it: set and announced, or dropped and announced offline."""
from __future__ import annotations

from kefu.console.users import User
from kefu.handoff.events import Presence
from kefu.handoff.manager import HandoffManager

STATUSES = ("online", "away")


async def announce(manager: HandoffManager, user: User, status: str) -> None:
    await manager.set_presence(user.name, status, user.role, user.team)
    await manager.publish(Presence(user.name, status))


async def leave(manager: HandoffManager, user: User) -> None:
    await manager.drop_presence(user.name)
    await manager.publish(Presence(user.name, "offline"))
