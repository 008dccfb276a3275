"""The small interface every channel implements: take messages in at the edge, send replies out."""
from __future__ import annotations

from abc import ABC, abstractmethod

from aiohttp import web

from kefu.core.messages import OutboundMessage


class Channel(ABC):
    """A customer-facing channel. Only ``send_text`` is required; richer sends fall back to it."""

    name: str

    @abstractmethod
    async def send_text(self, conversation_id: str, message: OutboundMessage) -> None:
        """Deliver the message's text to the customer behind the conversation."""

    async def send_buttons(self, conversation_id: str, message: OutboundMessage) -> None:
        """Channels without buttons show the choices as text the customer can type back."""
        if not message.buttons:
            await self.send_text(conversation_id, message)
            return
        choices = " / ".join(button.title for button in message.buttons)
        await self.send_text(conversation_id, OutboundMessage(
            conversation_id=message.conversation_id,
            text=f"{message.text}\n({choices})",
            role=message.role,
            message_id=message.message_id,
            sent_at=message.sent_at,
        ))

    async def send(self, conversation_id: str, message: OutboundMessage) -> None:
        if message.buttons:
            await self.send_buttons(conversation_id, message)
        else:
            await self.send_text(conversation_id, message)

    async def start(self) -> None:
        """Open what the channel needs while the app runs (API clients, listeners); nothing by default."""

    async def stop(self) -> None:
        """Close what start() opened."""

    def routes(self) -> list[web.AbstractRouteDef]:
        """The HTTP endpoints this channel receives on (webhooks, websockets)."""
        return []
