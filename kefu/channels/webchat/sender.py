"""Web chat's output side: a reply is published on the conversation's Redis channel; every gateway process
forwards it to the sockets it holds for that conversation (receiver.py)."""
from __future__ import annotations

import json

import redis.asyncio as aioredis

from kefu.channels.base import ChannelSender
from kefu.core.keys import web_out_channel
from kefu.core.messages import OutboundMessage


class WebChatSender(ChannelSender):
    name = "web"

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def send_text(self, conversation_id: str, message: OutboundMessage) -> None:
        await self.redis.publish(web_out_channel(conversation_id),
                                 json.dumps(message.to_dict(), ensure_ascii=False))

    async def send_buttons(self, conversation_id: str, message: OutboundMessage) -> None:
        # The widget renders buttons itself.
        await self.send_text(conversation_id, message)
