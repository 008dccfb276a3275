"""One customer across channels: a channel user becomes a known customer by proving an order they placed.

A WeChat openid or a Telegram chat starts as its own conversation (``wechat:<openid>``). Once the user sends
``绑定 DD20261104001 5678`` (or ``/link DD20261104001 5678``: order id plus the last 4 digits of its phone),
the user is linked to the order's customer and every later message goes to ``cust:<customer_id>``: the bot
and the agents see one history and one ticket list, whichever channel the customer writes on.
The conversation also remembers each channel's address, so a reply (the bot's or an agent's) finds its way
back. What the user wrote before linking is merged into the customer's conversation (kefu/channels/history_merge.py).

Wrong tries are limited (kefu/core/attempts.py) per channel user, per order (shared with the chat's own order
check), per target customer and per Telegram user across chats; a success resets nothing. A linked user can
undo the link (``解绑`` / ``/unlink``), and so can an agent from the console (kefu/console/links.py): the
user's next message goes to its own channel conversation again.
"""
from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass

import redis.asyncio as aioredis

from kefu.channels.history_merge import HistoryMerge
from kefu.core import keys
from kefu.core.attempts import AttemptLimiter, Counter, Verdict, order_proof
from kefu.core.identity import customer_conversation
from kefu.core.inbox import ADDRESS_TTL_S
from kefu.orders.base import BackendUnavailable, OrderBackend, OrderNotFound
from kefu.orders.phone import phone_matches

log = logging.getLogger(__name__)

LINK_COMMAND = re.compile(r"^\s*(?:/link|link|绑定)\s*[:：]?\s*(DD\d{6,24})\s*[,，\s]\s*(\d{4})\s*$", re.IGNORECASE)
UNLINK_COMMAND = re.compile(r"^\s*(?:/unlink(?:@\w+)?|unlink|解绑|解除绑定|取消绑定)\s*$", re.IGNORECASE)

LINK_FAILURE_WINDOW_S = 3600
"""Wrong link tries are counted in fixed one-hour windows, then forgotten (counters expire, never reset).

The proof is an order id (sequential) plus 4 phone digits (10,000 values): the limits bound a guesser to a
handful of tries an hour whichever identity they write from, while a customer who mistypes is soon let in."""
MAX_LINK_FAILURES = 5
"""Wrong tries one channel user (a WeChat openid, a Telegram chat) may make per window, across all orders."""
MAX_LINK_FAILURES_PER_PERSON = 5
"""Wrong tries one Telegram user may make per window across every chat they write from: a new group (a new
chat id) is no fresh start. WeChat's openid is the person already."""
MAX_LINK_FAILURES_PER_CUSTOMER = 10
"""Wrong tries against all of one customer's orders per window, from anywhere: a guesser spreading tries over
the victim's many orders (5 each per order) is stopped; higher than per order, as a customer may mix up orders."""


class LinkOutcome(enum.Enum):
    LINKED = "done"
    FAILED = "failed"
    LOCKED = "locked"
    UNAVAILABLE = "unavailable"

    @property
    def answer_key(self) -> str:
        """The catalog text that tells the customer how linking went."""
        return f"channels.link_{self.value}"


class UnlinkOutcome(enum.Enum):
    UNLINKED = "done"
    NOT_LINKED = "none"

    @property
    def answer_key(self) -> str:
        """The catalog text that tells the customer how unlinking went."""
        return f"linking.unlink_{self.value}"


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


def parse_unlink_command(text: str) -> bool:
    """``解绑`` / ``/unlink`` (``/unlink@shop_bot`` in a Telegram group) alone in a message."""
    return UNLINK_COMMAND.match(text or "") is not None


def channel_conversation(channel: str, user_id: str) -> str:
    """The conversation of a channel user nobody has linked to a customer yet."""
    return f"{channel}:{user_id}"


# Undo one link. KEYS: 1 the user's link, 2 the customer's set of links, 3 the customer conversation's
# addresses, 4 the user's own conversation record, 5 that conversation's handoff pointer. ARGV: 1 the customer
# id, 2 the set member, 3 the channel, 4 the user id, 5 the user's own conversation id, 6 the handoff key prefix.
# Only if the link still points at this customer (a re-link at the same moment wins). The user's own
# conversation forgets that it was merged (its new messages are read there again, not in the customer's
# history) and stops pointing at a handoff that moved to the customer's conversation. Returns 1 if unlinked.
_UNLINK = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
if redis.call('HGET', KEYS[3], ARGV[3]) == ARGV[4] then redis.call('HDEL', KEYS[3], ARGV[3]) end
redis.call('HDEL', KEYS[4], 'merged_into', 'merged_at', 'customer_id')
local ticket = redis.call('GET', KEYS[5])
if ticket and redis.call('HGET', ARGV[6] .. ticket, 'conversation_id') ~= ARGV[5] then
  redis.call('DEL', KEYS[5])
end
return 1
"""


def _member(channel: str, user_id: str) -> str:
    return f"{channel}:{user_id}"


class Customers:
    """Channel user -> customer mapping, kept in Redis so every gateway process agrees."""

    def __init__(self, redis: aioredis.Redis, orders: OrderBackend | None) -> None:
        self.redis = redis
        self.orders = orders
        self.attempts = AttemptLimiter(redis)
        self._unlink = redis.register_script(_UNLINK)

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

    async def link(self, channel: str, user_id: str, request: LinkRequest,
                   person: str | None = None) -> tuple[LinkOutcome, str | None]:
        """Link the user to the customer who placed the order, if the phone digits match.

        ``person`` is who writes when the channel user is a place rather than a person (the Telegram user
        behind a chat id). The check is made first, then counted with the limiter in one step (link_counters);
        once any counter is full every try is LOCKED, right digits included. Once linked, the user's pre-link
        conversation (transcript, an open handoff and its ticket) is merged into the customer's; linking again
        only sweeps in what reached the old conversation since.
        """
        if self.orders is None:
            return LinkOutcome.UNAVAILABLE, None
        try:
            order = await self.orders.get_order(request.order_id)
        except OrderNotFound:
            order = None
        except BackendUnavailable as error:
            log.warning("link %s:%s: order backend unavailable: %s", channel, user_id, error)
            return LinkOutcome.UNAVAILABLE, None
        matched = order is not None and phone_matches(order, request.phone_last4)
        counters = link_counters(channel, user_id, request.order_id, person, order.customer_id if order else None)
        if await self.attempts.attempt(counters, wrong=not matched) is Verdict.LOCKED:
            log.warning("link locked: %s user %s (person %s), order %s", channel, user_id, person, request.order_id)
            return LinkOutcome.LOCKED, None
        if order is None or not matched:
            return LinkOutcome.FAILED, None
        # Link first, then merge: from here on new messages go to the customer's conversation, so the merge
        # leaves behind at most what was in flight (a reply to it sweeps that in: add_reply).
        target = customer_conversation(order.customer_id)
        previous = await self.redis.get(keys.link(channel, user_id))
        if previous and previous != order.customer_id:
            # One customer at a time: the first customer's replies stop reaching this chat (what it wrote as
            # them stays in their history), then it links afresh.
            await self.unlink(channel, user_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.link(channel, user_id), order.customer_id)
            pipe.sadd(keys.customer_links(order.customer_id), _member(channel, user_id))
            pipe.hset(keys.address(target), channel, user_id)  # replies to the merged history reach this user
            pipe.expire(keys.address(target), ADDRESS_TTL_S)
            await pipe.execute()
        await HistoryMerge(self.redis).merge(channel_conversation(channel, user_id), order.customer_id)
        log.info("linked %s user %s to customer %s", channel, user_id, order.customer_id)
        return LinkOutcome.LINKED, order.customer_id

    async def unlink(self, channel: str, user_id: str) -> UnlinkOutcome:
        """Undo the user's link: their next message goes to their own channel conversation, as before linking.

        What was merged stays in the customer's history (it was written by the customer then); what the user
        writes from now on is theirs alone, and the customer's replies no longer reach this channel user.
        """
        customer_id = await self.redis.get(keys.link(channel, user_id))
        if not customer_id:
            return UnlinkOutcome.NOT_LINKED
        own = channel_conversation(channel, user_id)
        done = await self._unlink(
            keys=[keys.link(channel, user_id), keys.customer_links(customer_id),
                  keys.address(customer_conversation(customer_id)), keys.conversation(own),
                  keys.handoff_of_conversation(own)],
            args=[customer_id, _member(channel, user_id), channel, user_id, own, keys.handoff("")],
        )
        if not done:  # linked again (to someone else) at this very moment: that newer link stands
            return UnlinkOutcome.NOT_LINKED
        log.info("unlinked %s user %s from customer %s", channel, user_id, customer_id)
        return UnlinkOutcome.UNLINKED

    async def linked_users(self, customer_id: str) -> list[tuple[str, str]]:
        """(channel, user id) of every channel user linked to this customer now, sorted.

        Links made before the set of links existed are found through the customer conversation's addresses."""
        members = {tuple(m.split(":", 1)) for m in await self.redis.smembers(keys.customer_links(customer_id))}
        members |= set((await self.redis.hgetall(keys.address(customer_conversation(customer_id)))).items())
        candidates = sorted((str(channel), str(user_id)) for channel, user_id in members)
        if not candidates:
            return []
        linked_to = await self.redis.mget([keys.link(channel, user_id) for channel, user_id in candidates])
        return [user for user, linked in zip(candidates, linked_to, strict=True) if linked == customer_id]


def link_counters(channel: str, user_id: str, order_id: str, person: str | None,
                  customer_id: str | None) -> list[Counter]:
    """What one link try counts against: the channel user, the order (from anywhere, the chat's order check
    included), and where known the Telegram user behind the chat and the customer the order belongs to."""
    counters = [Counter(keys.link_failures(channel, user_id), MAX_LINK_FAILURES, LINK_FAILURE_WINDOW_S),
                order_proof(order_id)]
    if person:
        counters.append(Counter(keys.link_failures(f"{channel}-person", person),
                                MAX_LINK_FAILURES_PER_PERSON, LINK_FAILURE_WINDOW_S))
    if customer_id:
        counters.append(Counter(keys.link_failures("customer", customer_id),
                                MAX_LINK_FAILURES_PER_CUSTOMER, LINK_FAILURE_WINDOW_S))
    return counters
