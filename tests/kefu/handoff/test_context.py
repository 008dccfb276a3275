"""The context packet looks up a bounded number of orders, the most recent first (issue 9, defect 11)."""
from __future__ import annotations

import time

import redis.asyncio as aioredis

from kefu.config.retention import RetentionSettings
from kefu.core.conversations import ConversationStore, Understanding
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage
from kefu.core.tickets import TicketStore
from kefu.handoff.context import ContextBuilder
from kefu.handoff.state import Handoff, HandoffStore
from kefu.orders.base import Order
from kefu.orders.demo import DemoOrderBackend, seed_demo
from tests.actions.conftest import NOW


class CountingBackend(DemoOrderBackend):
    """The demo backend, counting the lookups the packet makes."""

    looked_up: list[str]

    async def get_order(self, order_id: str) -> Order:
        self.looked_up.append(order_id)
        return await super().get_order(order_id)


def _handoff(conversation_id: str, customer_id: str = "") -> Handoff:
    return Handoff(ticket_id="T-1", conversation_id=conversation_id, customer_id=customer_id, channel="web",
                   lang="zh", reason="human", priority="normal", trigger_id="m0", trigger_text="转人工",
                   created_at=time.time())


async def test_an_anonymous_conversation_naming_many_orders_looks_up_only_the_latest(
    redis_client: aioredis.Redis,
) -> None:
    await seed_demo(redis_client, now=NOW)
    conversations = ConversationStore(redis_client, RetentionSettings(context_max_orders=3))
    inbox = Inbox(redis_client, shards=1)
    named = [f"DD20261104{n:03d}" for n in range(1, 21)] * 3  # sixty mentions, twenty orders
    for number, order_id in enumerate(named):
        message = InboundMessage(channel="web", sender="v", conversation_id="visitor:v", text=order_id,
                                 message_id=f"m{number}")
        await inbox.record(message)
        await conversations.set_understanding("visitor:v", message.message_id, Understanding(
            intent="order_status", confidence=0.9, entities=[{"entity": "order_id", "value": order_id}]))
    backend = CountingBackend(redis_client, clock=lambda: NOW)
    backend.looked_up = []
    builder = ContextBuilder(conversations, TicketStore(redis_client), backend, HandoffStore(redis_client))
    packet = await builder.build(_handoff("visitor:v"), slots={"order_id": "DD20261104007"})
    assert backend.looked_up == ["DD20261104007", "DD20261104020", "DD20261104019"]
    assert [order["id"] for order in packet["orders"]] == backend.looked_up


async def test_a_customer_with_many_orders_gets_the_newest_within_the_bound(redis_client: aioredis.Redis) -> None:
    await seed_demo(redis_client, now=NOW)
    conversations = ConversationStore(redis_client, RetentionSettings(context_max_orders=2))
    backend = DemoOrderBackend(redis_client, clock=lambda: NOW)
    builder = ContextBuilder(conversations, TicketStore(redis_client), backend, HandoffStore(redis_client))
    packet = await builder.build(_handoff("cust:c1001", "c1001"))
    newest = [order.id for order in await backend.orders_of("c1001")][:2]
    assert [order["id"] for order in packet["orders"]] == newest
