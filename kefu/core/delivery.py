"""Delivery: every message to a customer (bot, agent or system) is kept in the transcript, then sent.

One piece of code for that rule, injected wherever replies leave: the pipeline, the handoff manager (agents'
replies, takeover notices), and the channels' own answers (Telegram's /start, a link confirmation). Storing
first means a reply that cannot be sent is still on the conversation for agents, flagged by the channel.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol

from kefu.core import metrics
from kefu.core.conversations import ConversationStore
from kefu.core.messages import OutboundMessage

log = logging.getLogger(__name__)


class Sender(Protocol):
    """The output side of a channel (kefu/channels/base.py ``ChannelSender`` implements it)."""

    name: str

    async def send(self, conversation_id: str, message: OutboundMessage) -> None: ...


class Delivery:
    """Keeps, then sends, on the channel the customer wrote from."""

    def __init__(self, conversations: ConversationStore, senders: Mapping[str, Sender]) -> None:
        self.conversations = conversations
        self.senders = senders

    async def deliver(self, channel: str, message: OutboundMessage) -> None:
        await self.keep(channel, message)
        sender = self.senders.get(channel)
        if sender is None:
            log.error("no channel %r to deliver to; message kept in the transcript", channel)
            return
        await sender.send(message.conversation_id, message)
        metrics.sent(channel, message.role)

    async def keep(self, channel: str, message: OutboundMessage) -> None:
        """The transcript half alone: for an answer the channel returns itself (WeChat's passive reply)."""
        await self.conversations.add_reply(message, channel)
