"""The shared subscriber on a real Redis: dispatch by channel, RESYNC after a restart or an overflow."""
from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from kefu.core.subscription import RESYNC, Subscriber
from tests.helpers.restartable_redis import restartable_redis


async def test_messages_reach_only_the_listeners_of_their_channel(redis_client: aioredis.Redis) -> None:
    subscriber = Subscriber(redis_client, patterns=("t:*",), name="test")
    await subscriber.start()
    try:
        assert await subscriber.wait_live(10)
        with subscriber.listen("t:a") as a, subscriber.listen("t:b") as b:
            await redis_client.publish("t:a", "for a")
            await redis_client.publish("t:b", "for b")
            assert await asyncio.wait_for(a.get(), 10) == "for a"
            assert await asyncio.wait_for(b.get(), 10) == "for b"
    finally:
        await subscriber.stop()


async def test_after_a_redis_restart_every_listener_is_told_to_catch_up() -> None:
    with restartable_redis() as server:
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        subscriber = Subscriber(client, channels=("c",), name="test", backoff_s=(0.05, 0.5))
        await subscriber.start()
        try:
            assert await subscriber.wait_live(10)
            with subscriber.listen("c") as listener:
                server.kill()
                server.start()
                assert await asyncio.wait_for(listener.get(), 15) is RESYNC
                assert await subscriber.wait_live(10)
                assert subscriber.sessions == 2
                await client.publish("c", "still here")
                assert await asyncio.wait_for(listener.get(), 10) == "still here"
        finally:
            await subscriber.stop()
            await client.aclose()


async def test_a_listener_added_while_redis_is_down_catches_up_when_it_is_back() -> None:
    with restartable_redis() as server:
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        subscriber = Subscriber(client, channels=("c",), name="test", backoff_s=(0.05, 0.5))
        await subscriber.start()
        try:
            assert await subscriber.wait_live(10)
            server.kill()
            while subscriber.live:
                await asyncio.sleep(0.01)
            with subscriber.listen("c") as listener:
                server.start()
                assert await asyncio.wait_for(listener.get(), 15) is RESYNC
        finally:
            await subscriber.stop()
            await client.aclose()


async def test_a_listener_that_falls_behind_gets_resync_instead_of_a_backlog(redis_client: aioredis.Redis) -> None:
    subscriber = Subscriber(redis_client, channels=("slow", "done"), name="test", max_queued=3)
    await subscriber.start()
    try:
        assert await subscriber.wait_live(10)
        with subscriber.listen("slow") as slow, subscriber.listen("done") as done:
            for number in range(10):
                await redis_client.publish("slow", str(number))
            await redis_client.publish("done", "")
            await asyncio.wait_for(done.get(), 10)  # one connection, in order: all ten were dispatched
            first = await asyncio.wait_for(slow.get(), 10)
            await redis_client.publish("slow", "fresh")
            rest = []
            while (item := await asyncio.wait_for(slow.get(), 10)) != "fresh":
                rest.append(item)
        # The backlog was dropped for a catch-up; at most the last few messages wait behind it.
        assert first is RESYNC
        assert len(rest) < 3 and all(item in {"7", "8", "9", RESYNC} for item in rest)
    finally:
        await subscriber.stop()


async def test_stop_ends_the_reader_even_while_redis_is_unreachable() -> None:
    client = aioredis.Redis.from_url("redis://127.0.0.1:9/0")
    subscriber = Subscriber(client, channels=("c",), name="test")
    await subscriber.start()
    assert not await subscriber.wait_live(0.3)
    await asyncio.wait_for(subscriber.stop(), 5)
    await client.aclose()
