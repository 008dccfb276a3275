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
        """Keep, then send. A reply delivered again under the same id (the pipeline replaying an entry whose
        worker died between sending and recording it) is sent only if it did not go out the first time."""
        fresh = await self.keep(channel, message)
        if not fresh and await self.conversations.reply_sent(message.message_id):
            log.info("reply %s was delivered before; not sent again", message.message_id)
            return
        sender = self.senders.get(channel)
        if sender is None:
            log.error("no channel %r to deliver to; message kept in the transcript", channel)
            return
        await sender.send(message.conversation_id, message)
        await self.conversations.mark_sent(message.message_id)
        metrics.sent(channel, message.role)

    async def keep(self, channel: str, message: OutboundMessage) -> bool:
        """The transcript half alone: for an answer the channel returns itself (WeChat's passive reply).
        False when this reply id was kept before."""
        return await self.conversations.add_reply(message, channel)
