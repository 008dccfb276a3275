"""Delivery keeps, then sends, each reply once: a reply delivered again under its id (an entry replayed after
its worker died) is neither stored nor sent twice, and one kept but never sent still goes out."""
from __future__ import annotations

import redis.asyncio as aioredis

from kefu.core.conversations import ConversationStore
from kefu.core.messages import OutboundMessage
from tests.helpers.delivery import recording_delivery


async def test_a_reply_delivered_again_is_stored_and_sent_once(redis_client: aioredis.Redis) -> None:
    delivery, told = recording_delivery(redis_client)
    reply = OutboundMessage("visitor:d1", "运费10元", message_id="m1.1")
    await delivery.deliver("web", reply)
    await delivery.deliver("web", reply)
    assert [m.message_id for m in told] == ["m1.1"]
    assert [e["id"] for e in await ConversationStore(redis_client).transcript("visitor:d1")] == ["m1.1"]


async def test_a_reply_kept_but_not_sent_is_sent_when_delivered_again(redis_client: aioredis.Redis) -> None:
    delivery, told = recording_delivery(redis_client)
    reply = OutboundMessage("visitor:d2", "运费10元", message_id="m2.1")
    await delivery.keep("web", reply)  # the worker died after storing it, before sending
    await delivery.deliver("web", reply)
    assert [m.message_id for m in told] == ["m2.1"]
    assert len(await ConversationStore(redis_client).transcript("visitor:d2")) == 1


async def test_different_replies_are_all_delivered(redis_client: aioredis.Redis) -> None:
    delivery, told = recording_delivery(redis_client)
    for text in ("one", "two"):
        await delivery.deliver("web", OutboundMessage("visitor:d3", text))
    assert [m.text for m in told] == ["one", "two"]
