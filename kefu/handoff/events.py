"""The consoles' live events, typed in one place: each one's ``to_dict()`` is the JSON a console receives.

The handoff manager publishes most of them (through Redis, so every gateway process's consoles hear them); the
console builds ``board``, ``presence`` and ``routed`` itself. console.js reads them by ``type``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


def optional() -> Any:
    """A field left out of the JSON while unset, as the events have always been sent (``by`` only on transfers)."""
    return field(default=None, metadata={"optional": True})


class ConsoleEvent:
    """Base of every event: ``type`` first, then the fields in declaration order, unset optional ones left out.

    A field's JSON key is its name unless its metadata names another (``from`` is a Python keyword).
    """

    type: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        body = {
            item.metadata.get("key", item.name): getattr(self, item.name)
            for item in fields(self)  # type: ignore[arg-type]
            if not (item.metadata.get("optional") and getattr(self, item.name) is None)
        }
        return {"type": self.type} | body


@dataclass(frozen=True)
class Board(ConsoleEvent):
    """The snapshot a console's socket starts with; ``me`` says who this console is signed in as."""

    type: ClassVar[str] = "board"
    me: dict[str, str]
    queue: list[dict[str, Any]]
    assigned: list[dict[str, Any]]
    presence: dict[str, dict[str, Any]]

    def contents(self) -> dict[str, Any]:
        """What ``GET /console/api/queue`` answers: the same board without the socket's framing."""
        return {"queue": self.queue, "assigned": self.assigned, "presence": self.presence}


@dataclass(frozen=True)
class Queued(ConsoleEvent):
    """A handoff waits in the queue: just opened, or transferred to a team (``by`` the agent who did)."""

    type: ClassVar[str] = "queued"
    item: dict[str, Any]
    by: str | None = optional()


@dataclass(frozen=True)
class Claimed(ConsoleEvent):
    """An agent holds the handoff: claimed, or transferred to them (``by`` the agent who did)."""

    type: ClassVar[str] = "claimed"
    item: dict[str, Any]
    by: str | None = optional()


@dataclass(frozen=True)
class Finished(ConsoleEvent):
    """Closed or handed back to the bot: it leaves every board."""

    type: ClassVar[str] = "finished"
    item: dict[str, Any]


@dataclass(frozen=True)
class Merged(ConsoleEvent):
    """The customer linked a channel: the handoff now serves their conversation (kefu/channels/history_merge.py)."""

    type: ClassVar[str] = "merged"
    source: str = field(metadata={"key": "from"})
    item: dict[str, Any]


@dataclass(frozen=True)
class Message(ConsoleEvent):
    """A transcript entry of a held conversation (the customer's or an agent's), for the ticket's screen."""

    type: ClassVar[str] = "message"
    ticket: str
    entry: dict[str, Any]


@dataclass(frozen=True)
class Note(ConsoleEvent):
    """An agent's private note on a ticket; never sent to the customer."""

    type: ClassVar[str] = "note"
    ticket: str
    note: dict[str, Any]


@dataclass(frozen=True)
class Presence(ConsoleEvent):
    """An agent came online, went away or left (``offline``)."""

    type: ClassVar[str] = "presence"
    agent: str
    status: str


@dataclass(frozen=True)
class Routed(ConsoleEvent):
    """Sent to one console instead of ``queued``: the item waits for another team, so it leaves this board."""

    type: ClassVar[str] = "routed"
    ticket_id: str | None
    team: str


@dataclass(frozen=True)
class FollowUpAlert(ConsoleEvent):
    """A promised follow-up changed: ``promised``, ``kept`` (``by`` whom), or its alerts ``soon`` and ``missed``."""

    type: ClassVar[str] = "followup"
    stage: str
    item: dict[str, Any]
    by: str | None = optional()


@dataclass(frozen=True)
class InboxChanged(ConsoleEvent):
    """A handoff's inbox status changed: pending the customer, snoozed until a time, or open again (``by`` whom:
    an agent, "customer" when they wrote, "snooze" when its time came)."""

    type: ClassVar[str] = "inbox"
    item: dict[str, Any]
    by: str | None = optional()
