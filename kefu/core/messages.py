"""The channel-neutral messages that flow through the pipeline; platform objects never get past a connector."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any


def new_id() -> str:
    return uuid.uuid4().hex


def clipped(text: str, limit: int) -> str:
    """A message too long for the bot, as kept for agents: its first ``limit`` characters and a marker, so the
    customer's words are not lost although the bot only asked them to write less."""
    return text if len(text) <= limit else f"{text[:limit]} […{len(text) - limit} more characters]"


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class InboundMessage:
    """One thing a customer said, on any channel, with who said it and where it goes."""

    channel: str
    sender: str
    conversation_id: str
    text: str
    message_id: str = field(default_factory=new_id)
    customer_id: str | None = None
    received_at: float = field(default_factory=time.time)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        # vars(), not asdict(): its deep copy was two thirds of the cost (metadata holds JSON values only).
        return json.dumps(vars(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> InboundMessage:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class OutboundMessage:
    """One thing said to a customer: by the bot, an agent or the system."""

    conversation_id: str
    text: str
    role: str = "bot"
    buttons: tuple[Button, ...] = ()
    message_id: str = field(default_factory=new_id)
    sent_at: float = field(default_factory=time.time)
    reply_to: str | None = None
    """The customer message this answers (the bot's replies): agents and the fault bench see what answered what."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "role": self.role,
            "text": self.text,
            "ts": self.sent_at,
            "buttons": [asdict(b) for b in self.buttons],
        } | ({"reply_to": self.reply_to} if self.reply_to else {})
