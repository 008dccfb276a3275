"""Web chat's limits on a real gateway and Redis: each refused with its frame, nothing queued, neighbours unaffected.

The gateway trusts 127.0.0.1 as a reverse proxy here, so each test client can come from its own address
(X-Forwarded-For), as customers behind a shop's proxy do.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import secrets
import uuid
from contextlib import AsyncExitStack

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.config.webchat import WebChatSettings
from kefu.core.conversations import ConversationStore
from kefu.core.identity import sign_customer
from kefu.ops.stack import free_port
from tests.helpers.gateway import running_gateway
from tests.helpers.webchat import queued_messages, refused_socket, visitor

LOOPBACK_PROXY = (ipaddress.ip_network("127.0.0.1/32"),)
LIMITS = WebChatSettings(sockets_per_conversation=2, sockets_per_address=3, messages_per_minute_per_conversation=3,
                         messages_per_minute_per_address=5, new_visitors_per_hour_per_address=2,
                         trusted_proxies=LOOPBACK_PROXY)


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(redis_url=redis_url, rasa_url=f"http://127.0.0.1:{free_port()}", rasa_token="t",
                    identity_secret=secrets.token_hex(16), port=free_port(), actions_port=free_port(), webchat=LIMITS)


def signed(customer_id: str, settings: Settings) -> dict:
    return {"visitor_id": uuid.uuid4().hex} | sign_customer(customer_id, settings.identity_secret).hello_fields()


async def test_sockets_per_conversation(settings: Settings) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url:
        async with visitor(base_url, visitor_id="tabs" * 5, forwarded_for="203.0.113.1"), \
                visitor(base_url, visitor_id="tabs" * 5, forwarded_for="203.0.113.2"):
            frame, closing = await refused_socket(base_url, {"visitor_id": "tabs" * 5, "lang": "en"},
                                                  "203.0.113.3")
        # Closing a tab frees its slot at once.
        async with visitor(base_url, visitor_id="tabs" * 5, forwarded_for="203.0.113.3") as again:
            assert again.welcome["type"] == "welcome"
    assert frame["code"] == "too_many_sockets" and frame["scope"] == "conversation"
    assert frame["retry_after"] > 0
    assert "2 windows" in frame["message"] and f"{frame['retry_after']} seconds" in frame["message"]
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4429


async def test_sockets_per_address(settings: Settings) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url, AsyncExitStack() as open_ones:
        for _ in range(3):
            await open_ones.enter_async_context(visitor(base_url, forwarded_for="198.51.100.7"))
        frame, closing = await refused_socket(base_url, {"visitor_id": uuid.uuid4().hex, "lang": "zh"},
                                              "198.51.100.7")
        # Someone on another address connects as usual.
        async with visitor(base_url, forwarded_for="203.0.113.9") as neighbour:
            assert neighbour.welcome["type"] == "welcome"
    assert (frame["code"], frame["scope"], closing.data) == ("too_many_sockets", "address", 4429)
    assert "窗口过多" in frame["message"]


async def test_messages_per_conversation_are_refused_before_the_inbox(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url:
        async with visitor(base_url, hello=signed("c1001", settings), forwarded_for="203.0.113.5") as customer:
            acks = [await customer.send(f"我的订单到哪了 {n}", message_id=f"m{n}") for n in range(3)]
            refused = await customer.send("我的订单到哪了 3", message_id="m3")
            # The widget resending a message that was stored (its ack lost) is not a new message.
            resent = await customer.send("我的订单到哪了 0", message_id="m0")
    assert [ack["type"] for ack in acks] == ["ack"] * 3
    assert refused["code"] == "too_many_messages" and refused["scope"] == "conversation"
    assert refused["id"] == "m3" and 0 < refused["retry_after"] <= 60
    assert f"{refused['retry_after']} 秒后" in refused["message"]
    assert resent == {"type": "ack", "id": "m0", "duplicate": True}
    assert await queued_messages(redis_client, settings.shards) == 3
    transcript = await ConversationStore(redis_client).transcript("cust:c1001")
    assert [entry["text"] for entry in transcript] == [f"我的订单到哪了 {n}" for n in range(3)]


async def test_messages_per_address_spare_a_customer_on_another_address(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url:
        async with visitor(base_url, hello=signed("c1002", settings), forwarded_for="198.51.100.7") as first, \
                visitor(base_url, hello=signed("c1004", settings), forwarded_for="198.51.100.7") as second, \
                visitor(base_url, hello=signed("c1003", settings), forwarded_for="203.0.113.9") as legit:
            flood = [await first.send("where is my order") for _ in range(3)]
            flood += [await second.send("where is my order") for _ in range(3)]
            answer = await legit.send("where is my order")
    # Five from the flooding address in this minute, then refused; the customer elsewhere is not affected.
    assert [frame["type"] for frame in flood] == ["ack"] * 5 + ["error"]
    assert flood[-1]["code"] == "too_many_messages" and flood[-1]["scope"] == "address"
    assert "your network" in flood[-1]["message"]
    assert answer["type"] == "ack"
    assert await queued_messages(redis_client, settings.shards) == 6


async def test_fresh_visitor_ids_from_one_address_stop_opening_conversations(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    """A script inventing visitor ids cannot open unlimited (urgent safety) conversations."""
    said = "the charger caught fire and there is smoke"
    async with running_gateway(settings, run_pipeline=False) as base_url:
        answers = []
        for _ in range(3):
            async with visitor(base_url, forwarded_for="198.51.100.7") as fresh:
                answers.append(await fresh.send(said))
                refused_conversation = fresh.welcome["conversation_id"]
        async with visitor(base_url, forwarded_for="203.0.113.9") as elsewhere:
            elsewhere_answer = await elsewhere.send(said)
        async with visitor(base_url, hello=signed("c1002", settings), forwarded_for="198.51.100.7") as customer:
            signed_in_answer = await customer.send(said)
    assert [a["type"] for a in answers] == ["ack", "ack", "error"]
    assert answers[-1]["code"] == "too_many_visitors" and answers[-1]["scope"] == "visitors"
    assert 0 < answers[-1]["retry_after"] <= 3600 and "minutes" in answers[-1]["message"]
    assert elsewhere_answer["type"] == "ack" and signed_in_answer["type"] == "ack"
    assert await queued_messages(redis_client, settings.shards) == 4
    assert await ConversationStore(redis_client).transcript(refused_conversation) == []


async def test_a_known_visitor_keeps_chatting_when_the_address_has_no_new_visitors_left(settings: Settings) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url:
        async with visitor(base_url, visitor_id="regular" * 3, forwarded_for="198.51.100.7") as regular:
            assert (await regular.send("hello"))["type"] == "ack"
        async with visitor(base_url, forwarded_for="198.51.100.7") as another:
            assert (await another.send("hello"))["type"] == "ack"
        async with visitor(base_url, visitor_id="regular" * 3, forwarded_for="198.51.100.7") as back:
            assert (await back.send("me again"))["type"] == "ack"


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(settings: Settings) -> None:
    """Without a trusted proxy, a client cannot pick a fresh address per socket."""
    untrusted = WebChatSettings(sockets_per_address=2)
    settings = dataclasses.replace(settings, webchat=untrusted)
    async with running_gateway(settings, run_pipeline=False) as base_url:
        async with visitor(base_url, forwarded_for="198.51.100.1"), visitor(base_url, forwarded_for="198.51.100.2"):
            frame, _ = await refused_socket(base_url, {"visitor_id": uuid.uuid4().hex}, "198.51.100.3")
    assert frame["code"] == "too_many_sockets" and frame["scope"] == "address"
