"""The durable inbox: one atomic round trip stores, deduplicates, remembers the route back, registers a waiter."""
from __future__ import annotations

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.inbox import ADDRESS_TTL_S, Inbox, Waiting, shard_of
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
