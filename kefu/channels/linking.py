"""One customer across channels: a channel user becomes a known customer by proving an order they placed.

A WeChat openid or a Telegram chat starts as its own conversation (``wechat:<openid>``). Once the user sends
``绑定 DD20261104001 5678`` (or ``/link DD20261104001 5678``: order id plus the last 4 digits of its phone),
the user is linked to the order's customer and every later message goes to ``cust:<customer_id>``: the bot
and the agents see one history and one ticket list, whichever channel the customer writes on.
The conversation also remembers each channel's address, so a reply (the bot's or an agent's) finds its way
back. What the user wrote before linking is merged into the customer's conversation (kefu/channels/history_merge.py).
"""
from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass

import redis.asyncio as aioredis

from kefu.channels.history_merge import HistoryMerge
from kefu.core import keys
from kefu.core.identity import customer_conversation
from kefu.core.inbox import ADDRESS_TTL_S
from kefu.orders.base import BackendUnavailable, OrderBackend, OrderNotFound
from kefu.orders.phone import phone_matches

log = logging.getLogger(__name__)

LINK_COMMAND = re.compile(r"^\s*(?:/link|link|绑定)\s*[:：]?\s*(DD\d{6,24})\s*[,，\s]\s*(\d{4})\s*$", re.IGNORECASE)
MAX_LINK_FAILURES = 5
LINK_FAILURE_WINDOW_S = 3600


class LinkOutcome(enum.Enum):
    LINKED = "done"
    FAILED = "failed"
    LOCKED = "locked"
    UNAVAILABLE = "unavailable"

    @property
    def answer_key(self) -> str:
        """The catalog text that tells the customer how linking went."""
        return f"channels.link_{self.value}"


@dataclass(frozen=True)
class ChannelUser:
    """Where a message came from, and which conversation it belongs to."""

    channel: str
    user_id: str
    conversation_id: str
    customer_id: str | None


@dataclass(frozen=True)
class LinkRequest:
    order_id: str
    phone_last4: str


def parse_link_command(text: str) -> LinkRequest | None:
    match = LINK_COMMAND.match(text or "")
    if match is None:
        return None
    return LinkRequest(order_id=match.group(1).upper(), phone_last4=match.group(2))


def channel_conversation(channel: str, user_id: str) -> str:
    """The conversation of a channel user nobody has linked to a customer yet."""
    return f"{channel}:{user_id}"


class Customers:
    """Channel user -> customer mapping, kept in Redis so every gateway process agrees."""

    def __init__(self, redis: aioredis.Redis, orders: OrderBackend | None) -> None:
        self.redis = redis
        self.orders = orders

    @staticmethod
    def user(channel: str, user_id: str, customer_id: str | None) -> ChannelUser:
        """The channel user, given what ``keys.link`` holds (for callers that batch that read with their own)."""
        conversation_id = customer_conversation(customer_id) if customer_id else channel_conversation(channel, user_id)
        return ChannelUser(channel, user_id, conversation_id, customer_id)

    async def resolve(self, channel: str, user_id: str) -> ChannelUser:
        """Who is writing, and remember how to reach them on this channel (the inbox also does, per message)."""
        user = self.user(channel, user_id, await self.redis.get(keys.link(channel, user_id)))
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(keys.address(user.conversation_id), channel, user_id)
            pipe.expire(keys.address(user.conversation_id), ADDRESS_TTL_S)
            await pipe.execute()
        return user

    async def address(self, conversation_id: str, channel: str) -> str | None:
        """The channel user id a reply to this conversation goes to on this channel."""
        return await self.redis.hget(keys.address(conversation_id), channel)

    async def link(self, channel: str, user_id: str, request: LinkRequest) -> tuple[LinkOutcome, str | None]:
        """Link the user to the customer who placed the order, if the phone digits match.

        Failures are counted per channel user: after MAX_LINK_FAILURES in an hour the user is locked out,
        so the 10,000 possible digits cannot be tried one by one. Once linked, the user's pre-link
        conversation (transcript, an open handoff and its ticket) is merged into the customer's; linking again
        only sweeps in what reached the old conversation since.
        """
        failures_key = keys.link_failures(channel, user_id)
        if int(await self.redis.get(failures_key) or 0) >= MAX_LINK_FAILURES:
            return LinkOutcome.LOCKED, None
        if self.orders is None:
            return LinkOutcome.UNAVAILABLE, None
        try:
            order = await self.orders.get_order(request.order_id)
        except OrderNotFound:
            order = None
        except BackendUnavailable as error:
            log.warning("link %s:%s: order backend unavailable: %s", channel, user_id, error)
            return LinkOutcome.UNAVAILABLE, None
        if order is None or not phone_matches(order, request.phone_last4):
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(failures_key)
                pipe.expire(failures_key, LINK_FAILURE_WINDOW_S)
                await pipe.execute()
            return LinkOutcome.FAILED, None
        # Link first, then merge: from here on new messages go to the customer's conversation, so the merge
        # leaves behind at most what was in flight (a reply to it sweeps that in: add_reply).
        target = customer_conversation(order.customer_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.link(channel, user_id), order.customer_id)
            pipe.delete(failures_key)
            pipe.hset(keys.address(target), channel, user_id)  # replies to the merged history reach this user
            pipe.expire(keys.address(target), ADDRESS_TTL_S)
            await pipe.execute()
        await HistoryMerge(self.redis).merge(channel_conversation(channel, user_id), order.customer_id)
        log.info("linked %s user %s to customer %s", channel, user_id, order.customer_id)
        return LinkOutcome.LINKED, order.customer_id
