"""Telling a customer something they did not ask for, on their last channel and within that channel's rules.

Web chat: the update joins the transcript and reaches any open widget (a closed one shows it on its next
visit). Telegram: through the sender, which keeps Telegram's rate limits (kefu/channels/telegram/limits.py).
WeChat: customer-service messages are allowed only within 48 hours of the customer's last message, and a
quota applies: outside the window (or refused for quota) the update is kept here and delivered at the
customer's next contact, by the pipeline interceptor ``flush``, on whatever channel they then write from.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis

from kefu.channels.linking import Customers
from kefu.config.commitments import CommitmentSettings
from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.delivery import Delivery
from kefu.core.messages import Button, InboundMessage, OutboundMessage

log = logging.getLogger(__name__)

WECHAT = "wechat"
# What WeChat's sender flags when the window or the quota kept a message back: worth delivering later.
RETRY_LATER = ("window_closed", "quota_exceeded")
# Pop everything kept for a conversation in one step, so two workers never both deliver it.
_TAKE_ALL = """
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return items
"""


@dataclass(frozen=True)
class Update:
    """One proactive message; ``kind`` says what it is about ("order" updates honour the opt-out)."""

    conversation_id: str
    text: str
    kind: str
    buttons: tuple[Button, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Update:
        data = json.loads(raw)
        return cls(data["conversation_id"], data["text"], data["kind"],
                   tuple(Button(**button) for button in data.get("buttons", ())))


class ProactiveUpdates:
    def __init__(self, redis: aioredis.Redis, conversations: ConversationStore, delivery: Delivery,
                 customers: Customers, settings: CommitmentSettings) -> None:
        self.redis = redis
        self.conversations = conversations
        self.delivery = delivery
        self.customers = customers
        self.settings = settings
        self._take_all = redis.register_script(_TAKE_ALL)

    async def send(self, update: Update) -> str:
        """``sent``, or ``kept`` for the customer's next contact (WeChat's window is closed)."""
        conversation_id = await self.conversations.live_id(update.conversation_id)
        update = Update(conversation_id, update.text, update.kind, update.buttons)
        channel = (await self.conversations.record(conversation_id)).get("channel") or "web"
        if channel not in self.delivery.senders:
            channel = "web"  # a channel no longer configured: the transcript, seen on the next web visit
        if channel == WECHAT and not await self._wechat_window_open(conversation_id):
            await self._keep(update)
            return "kept"
        return await self._deliver(channel, update)

    async def flush(self, message: InboundMessage) -> bool:
        """Pipeline interceptor: the customer is back, so what was kept for them goes out now (never handles
        the message itself)."""
        conversation_id = await self.conversations.live_id(message.conversation_id)
        kept = await self._take_all(keys=[keys.updates_pending(conversation_id)])
        for raw in kept:
            update = Update.from_json(raw)
            if update.kind == "order" and await self.redis.exists(keys.updates_opted_out(conversation_id)):
                continue
            await self._deliver(message.channel, Update(conversation_id, update.text, update.kind, update.buttons))
        return False

    async def _deliver(self, channel: str, update: Update) -> str:
        message = OutboundMessage(update.conversation_id, update.text, role="system", buttons=update.buttons)
        await self.delivery.deliver(channel, message)
        reason = await self.redis.hget(keys.undelivered(update.conversation_id), message.message_id)
        if channel == WECHAT and reason in RETRY_LATER:
            await self._keep(update)
            return "kept"
        return "sent"

    async def _keep(self, update: Update) -> None:
        key = keys.updates_pending(update.conversation_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, update.to_json())
            pipe.expire(key, self.settings.pending_ttl_s)
            await pipe.execute()
        log.info("update for %s kept for the next contact (WeChat window closed)", update.conversation_id)

    async def _wechat_window_open(self, conversation_id: str) -> bool:
        openid = await self.customers.address(conversation_id, WECHAT)
        return bool(openid) and bool(await self.redis.exists(keys.wechat_window(openid)))

    async def pending(self, conversation_id: str) -> list[Update]:
        """What waits for the customer's next contact (for agents and tests)."""
        return [Update.from_json(raw) for raw in await self.redis.lrange(keys.updates_pending(conversation_id), 0, -1)]

