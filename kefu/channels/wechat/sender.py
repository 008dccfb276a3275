"""WeChat's output side: the reply goes back as the passive reply of the webhook request still waiting for it
(passive.py), otherwise through the customer-service message API within the 48-hour window.

Replies that cannot be delivered (no window, quota, blocked) stay on the conversation, flagged for agents.
"""
from __future__ import annotations

import logging

import redis.asyncio as aioredis

from kefu.channels.base import ChannelSender
from kefu.channels.linking import Customers
from kefu.channels.wechat import passive
from kefu.channels.wechat.api import CustomerServiceApi, DeliveryFailed
from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.messages import OutboundMessage

log = logging.getLogger(__name__)


class WeChatSender(ChannelSender):
    name = "wechat"

    def __init__(self, redis: aioredis.Redis, conversations: ConversationStore, customers: Customers,
                 api: CustomerServiceApi) -> None:
        self.redis = redis
        self.conversations = conversations
        self.customers = customers
        self.api = api

    async def stop(self) -> None:
        self.api.close()

    async def send_text(self, conversation_id: str, message: OutboundMessage) -> None:
        if await passive.offer(self.redis, conversation_id, message.message_id, message.text):
            return
        await self.send_by_api(conversation_id, message.message_id, message.text)

    async def send_by_api(self, conversation_id: str, message_id: str, text: str) -> None:
        openid = await self.customers.address(conversation_id, self.name)
        try:
            if openid is None:
                raise DeliveryFailed("no_wechat_user")
            if not await self.redis.exists(keys.wechat_window(openid)):
                raise DeliveryFailed("window_closed")
            await self.api.send_text(openid, text)
        except DeliveryFailed as failure:
            log.warning("wechat: reply %s on %s kept undelivered: %s", message_id, conversation_id, failure.reason)
            await self.conversations.mark_undelivered(conversation_id, message_id, failure.reason)
