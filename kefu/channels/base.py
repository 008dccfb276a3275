"""The small interfaces every channel implements, one per side: send replies out, take messages in.

A worker builds only the senders (it answers); a gateway builds both (it takes messages in and also sends the
agents' replies). Platform objects (wechatpy messages, Telegram ``Update``) never leave their channel package.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod

from aiohttp import web

from kefu.core.messages import OutboundMessage

# A button's payload is an intent Rasa takes as is (e.g. "/affirm"), optionally with the id of the question it
# answers (`/affirm{"question":"1a2b3c4d"}`, actions/turn.py: an old button acts on nothing); nothing else is let
# through, so a crafted payload names no order and no phone.
BUTTON_PAYLOAD = re.compile(r'^/[a-z_]{1,40}(?:\{"question":"[0-9a-f]{8}"\})?$')


class ChannelSender(ABC):
    """The output side. Only ``send_text`` is required; richer sends fall back to it."""

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
        """Open what sending needs (API clients); nothing by default."""

    async def stop(self) -> None:
        """Close what start() opened."""


class ChannelReceiver(ABC):
    """The input side: the HTTP endpoints (webhooks, websockets) a gateway serves for the channel."""

    name: str

    @abstractmethod
    def routes(self) -> list[web.AbstractRouteDef]:
        """The endpoints this channel receives on."""

    async def start(self) -> None:
        """Open what receiving needs (listeners); nothing by default."""

    async def stop(self) -> None:
        """Close what start() opened."""
