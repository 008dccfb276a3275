"""The demo shop's events take the webhook's own path after verification: the order moves on, the customer is told
in their language, with the order's facts (carrier, promised date, refund)."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from kefu.commitments.events import event_from_dict
from kefu.core.conversations import ConversationStore
from kefu.orders.demo import DemoOrderBackend, demo_event
from tests.helpers.gateway import chat
from tests.kefu.commitments.rig import IDENTITY_SECRET, Rig, running_rig


@pytest.fixture
async def rig(redis_url: str) -> AsyncIterator[Rig]:
    async with running_rig(redis_url, run_pipeline=False) as rig:
        yield rig


async def test_a_demo_shipment_moves_the_order_and_tells_the_customer(rig: Rig, redis_client: aioredis.Redis) -> None:
    async with chat(rig.base_url, customer_id="c1001", secret=IDENTITY_SECRET) as customer:
        raw = await demo_event(redis_client, "DD20261104002", "shipped")
        assert await rig.services.commitments.orders.handle(event_from_dict(raw)) == "sent"
        order = await DemoOrderBackend(redis_client).get_order("DD20261104002")
        assert (order.status, order.carrier, order.tracking_no) == ("shipped", "SF", raw["data"]["tracking_no"])
        text = (await customer.replies(1, timeout=15))[0]["text"]
    assert "顺丰速运" in text and order.tracking_no in text
    assert await rig.services.commitments.orders.handle(event_from_dict(raw)) == "duplicate"


async def test_a_late_order_is_said_to_be_late_in_english(rig: Rig, redis_client: aioredis.Redis) -> None:
    await ConversationStore(redis_client).set_language("cust:c1002", "en")
    async with chat(rig.base_url, customer_id="c1002", secret=IDENTITY_SECRET) as customer:
        raw = await demo_event(redis_client, "DD20261104010", "delayed")
        await rig.services.commitments.orders.handle(event_from_dict(raw))
        text = (await customer.replies(1, timeout=15))[0]["text"]
    assert text.startswith("Sorry: your order DD20261104010 (Li-Ning running shoes, size 42) was promised by ")
    assert "is late; it is now expected by" in text


async def test_a_refund_marks_the_demo_order_refunded(rig: Rig, redis_client: aioredis.Redis) -> None:
    raw = await demo_event(redis_client, "DD20261104003", "refund_completed")
    assert await rig.services.commitments.orders.handle(event_from_dict(raw)) == "sent"
    assert (await DemoOrderBackend(redis_client).get_order("DD20261104003")).status == "refunded"
    transcript = await ConversationStore(redis_client).transcript("cust:c1001")
    assert "¥336.00" in transcript[-1]["text"]
    with pytest.raises(ValueError):
        await demo_event(redis_client, "DD20261104003", "exploded")
