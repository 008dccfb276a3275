"""One Redis subscription per gateway process for every web-chat socket, surviving a Redis restart."""
from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.ops.stack import free_port
from tests.helpers.gateway import ChatClient, running_gateway
from tests.helpers.restartable_redis import pubsub_clients, restartable_redis
from tests.helpers.webchat import deliver, open_socket, retrying, visitor

SOCKETS = 12


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(redis_url=redis_url, rasa_url=f"http://127.0.0.1:{free_port()}", rasa_token="t",
                    identity_secret=secrets.token_hex(16), port=free_port(), actions_port=free_port())


async def texts(client: ChatClient, count: int) -> list[str]:
    return [frame["text"] for frame in await client.replies(count, timeout=30)]


async def wait_subscribed(url: str, timeout_s: float = 30) -> list[dict]:
    """The gateway's pub/sub connection as CLIENT LIST shows it, once it is there."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not (found := pubsub_clients(url)):
        assert asyncio.get_running_loop().time() < deadline, "the gateway never subscribed"
        await asyncio.sleep(0.05)
    return found


@asynccontextmanager
async def welcomed_despite_stale_connections(base_url: str) -> AsyncIterator[ChatClient]:
    """Connect as the widget does right after a Redis restart: an ``unavailable`` (the gateway's pooled
    connection to the old server failing once) means connecting again."""
    for _ in range(20):
        async with aiohttp.ClientSession() as http:
            socket, first = await open_socket(http, base_url, {"visitor_id": "gap-" + "x" * 16})
            if first["type"] == "welcome":
                try:
                    yield ChatClient(socket, first)
                finally:
                    await socket.close()
                return
            assert first == {"type": "error", "code": "unavailable", "retry": True}
            await socket.close()
    raise AssertionError("never welcomed after the restart")


async def test_many_sockets_share_one_pubsub_connection(settings: Settings, redis_client: aioredis.Redis) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url, AsyncExitStack() as sockets:
        clients = [await sockets.enter_async_context(visitor(base_url)) for _ in range(SOCKETS)]
        subscribed = await wait_subscribed(settings.redis_url)
        for number, client in enumerate(clients):
            await deliver(redis_client, client.welcome["conversation_id"], f"reply {number}")
        received = [await texts(client, 1) for client in clients]
        still_subscribed = pubsub_clients(settings.redis_url)
    # One connection for all of them (before: one per socket), and each socket got its own reply only.
    assert len(subscribed) == 1 and len(still_subscribed) == 1
    assert subscribed[0]["psub"] == "1" and subscribed[0]["sub"] == "0"
    assert received == [[f"reply {number}"] for number in range(SOCKETS)]


async def test_two_sockets_of_one_conversation_both_get_the_reply(settings: Settings,
                                                                  redis_client: aioredis.Redis) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url:
        async with visitor(base_url, visitor_id="v" * 20) as first, visitor(base_url, visitor_id="v" * 20) as second:
            await wait_subscribed(settings.redis_url)
            await deliver(redis_client, first.welcome["conversation_id"], "both tabs")
            assert await texts(first, 1) == ["both tabs"]
            assert await texts(second, 1) == ["both tabs"]


async def test_open_sockets_keep_receiving_replies_across_a_redis_restart(settings: Settings) -> None:
    """Redis killed with SIGKILL and started again from its AOF: every open socket still gets every reply, once."""
    with restartable_redis() as server:
        own = dataclasses.replace(settings, redis_url=server.url)
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        try:
            async with running_gateway(own, run_pipeline=False) as base_url, AsyncExitStack() as sockets:
                clients = [await sockets.enter_async_context(visitor(base_url)) for _ in range(3)]
                conversations = [c.welcome["conversation_id"] for c in clients]
                await wait_subscribed(server.url)
                for conversation in conversations:
                    await deliver(client, conversation, "before")
                assert [await texts(c, 1) for c in clients] == [["before"]] * 3

                server.kill()
                server.start()
                # Published at once, most likely before the gateway has subscribed again: only the catch-up
                # from the transcript can bring it.
                for conversation in conversations:
                    await retrying(lambda conversation=conversation: deliver(client, conversation, "during"))
                assert [await texts(c, 1) for c in clients] == [["during"]] * 3

                await wait_subscribed(server.url)
                for conversation in conversations:
                    await deliver(client, conversation, "after")
                for conversation in conversations:
                    await deliver(client, conversation, "last")
                # In order, and the catch-up never showed "during" a second time.
                assert [await texts(c, 2) for c in clients] == [["after", "last"]] * 3
                assert len(pubsub_clients(server.url)) == 1
        finally:
            await client.aclose()


async def test_a_socket_opened_while_the_subscription_is_down_catches_up(settings: Settings) -> None:
    """A customer connecting in the gap (Redis back, the subscriber still backing off) misses nothing."""
    with restartable_redis() as server:
        own = dataclasses.replace(settings, redis_url=server.url)
        client = aioredis.Redis.from_url(server.url, decode_responses=True)
        try:
            async with running_gateway(own, run_pipeline=False) as base_url:
                await wait_subscribed(server.url)
                # Killed long enough for the subscriber to be backing off when Redis is back.
                server.kill()
                await asyncio.sleep(1.0)
                server.start()
                async with AsyncExitStack() as stack:
                    late = await stack.enter_async_context(welcomed_despite_stale_connections(base_url))
                    await retrying(lambda: deliver(client, late.welcome["conversation_id"], "found you"))
                    assert await texts(late, 1) == ["found you"]
        finally:
            await client.aclose()
