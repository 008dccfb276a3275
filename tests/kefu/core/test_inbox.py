"""The durable inbox: one atomic round trip checks the request, stores, deduplicates, remembers the route back,
registers a waiter."""
from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.inbox import ADDRESS_TTL_S, Arrival, Inbox, LinkChanged, Replayed, Waiting, shard_of
from kefu.core.messages import InboundMessage


def _message(message_id: str = "m1") -> InboundMessage:
    return InboundMessage(channel="wechat", sender="oAlice", conversation_id="wechat:oAlice", text="运费怎么算",
                          message_id=message_id)


async def test_submit_queues_once_and_registers_the_waiter_only_for_a_new_message(
    redis_client: aioredis.Redis,
) -> None:
    inbox = Inbox(redis_client, shards=4)
    stream = keys.inbox_stream(shard_of("wechat:oAlice", 4))
    assert await inbox.submit(_message(), Waiting("kefu:wx:wait:wechat:oAlice", "p1:r1", 4500))
    assert await redis_client.get("kefu:wx:wait:wechat:oAlice") == "p1:r1"
    assert 4000 < await redis_client.pttl("kefu:wx:wait:wechat:oAlice") <= 4500
    # WeChat's retry of the same MsgId: not queued again, and its waiter is not registered over the first one.
    assert not await inbox.submit(_message(), Waiting("kefu:wx:wait:wechat:oAlice", "p1:r2", 4500))
    assert await redis_client.get("kefu:wx:wait:wechat:oAlice") == "p1:r1"
    assert await redis_client.xlen(stream) == 1
    assert await redis_client.llen("kefu:conv:wechat:oAlice:transcript") == 1


async def test_every_stored_message_remembers_how_to_reach_the_sender(redis_client: aioredis.Redis) -> None:
    inbox = Inbox(redis_client, shards=4)
    assert await inbox.record(_message("photo-1"))  # kept for agents, not queued for the bot
    assert await redis_client.hget(keys.address("wechat:oAlice"), "wechat") == "oAlice"
    assert 0 < await redis_client.ttl(keys.address("wechat:oAlice")) <= ADDRESS_TTL_S
    assert await redis_client.xlen(keys.inbox_stream(shard_of("wechat:oAlice", 4))) == 0
    assert not await redis_client.exists("kefu:wx:wait:wechat:oAlice")


def _arrival(linked: str = "", nonce: str = "n1") -> Arrival:
    return Arrival(once=f"kefu:wx:nonce:1:{nonce}", once_ttl_s=600, touch="kefu:wx:window:oAlice", touch_ttl_s=3600,
                   link=keys.link("wechat", "oAlice"), linked=linked)


async def test_an_arrival_is_checked_in_the_same_step_and_a_replayed_one_stores_nothing(
    redis_client: aioredis.Redis,
) -> None:
    inbox = Inbox(redis_client, shards=4)
    assert await inbox.submit(_message(), arrival=_arrival())
    assert await redis_client.exists("kefu:wx:nonce:1:n1", "kefu:wx:window:oAlice") == 2
    assert 0 < await redis_client.ttl("kefu:wx:window:oAlice") <= 3600
    # The same request again (its nonce), even carrying another message id: refused, nothing stored.
    with pytest.raises(Replayed):
        await inbox.submit(_message("m2"), arrival=_arrival())
    with pytest.raises(Replayed):
        await inbox.arrive(_arrival())
    assert await redis_client.xlen(keys.inbox_stream(shard_of("wechat:oAlice", 4))) == 1
    # A new request with a message id taken in before is a duplicate, not a replay.
    assert not await inbox.submit(_message(), arrival=_arrival(nonce="n2"))


async def test_a_link_changed_since_the_conversation_was_chosen_stores_nothing_and_spends_no_nonce(
    redis_client: aioredis.Redis,
) -> None:
    inbox = Inbox(redis_client, shards=4)
    await redis_client.set(keys.link("wechat", "oAlice"), "c42")  # linked by another process meanwhile
    with pytest.raises(LinkChanged) as changed:
        await inbox.submit(_message(), arrival=_arrival())
    assert changed.value.customer_id == "c42"
    assert not await redis_client.exists("kefu:wx:nonce:1:n1", keys.seen("wechat", "m1"))
    assert not await redis_client.keys("kefu:conv:*")
    # Chosen again for the customer, the same request goes in.
    assert await inbox.record(_message(), arrival=_arrival(linked="c42"))
    # Unlinked meanwhile: None, the user's own conversation again.
    await redis_client.delete(keys.link("wechat", "oAlice"))
    with pytest.raises(LinkChanged) as changed:
        await inbox.arrive(_arrival(linked="c42", nonce="n3"))
    assert changed.value.customer_id is None
