"""A Delivery whose every channel only records what it was asked to send (for tests of the handoff manager)."""
from __future__ import annotations

import redis.asyncio as aioredis

from kefu.channels.base import ChannelSender
from kefu.core.conversations import ConversationStore
from kefu.core.delivery import Delivery
from kefu.core.messages import OutboundMessage

CHANNELS = ("web", "wechat", "telegram")


class RecordingSender(ChannelSender):
    def __init__(self, name: str, told: list[OutboundMessage]) -> None:
        self.name = name
        self.told = told

    async def send_text(self, conversation_id: str, message: OutboundMessage) -> None:
        self.told.append(message)

    async def send_buttons(self, conversation_id: str, message: OutboundMessage) -> None:
        self.told.append(message)


def recording_delivery(redis: aioredis.Redis) -> tuple[Delivery, list[OutboundMessage]]:
    """The real Delivery (transcript first) over senders that keep what they were given, in order."""
    told: list[OutboundMessage] = []
    return Delivery(ConversationStore(redis), {name: RecordingSender(name, told) for name in CHANNELS}), told
