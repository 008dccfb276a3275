"""Web chat at the edge, without Rasa: identity, Origin, bad frames, and a Redis outage."""
from __future__ import annotations

import dataclasses
import hmac
import secrets
import time
from typing import Any

import aiohttp
import pytest

from kefu.config.settings import Settings
from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.identity import MAX_CLOCK_SKEW_S, sign_customer
from kefu.core.messages import InboundMessage
from kefu.ops.stack import free_port
from tests.helpers.gateway import chat, running_gateway
from tests.helpers.redis_server import redis_server, stop_redis


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return Settings(
        redis_url=redis_url,
        rasa_url=f"http://127.0.0.1:{free_port()}",  # nothing listens: these tests never reach Rasa
        rasa_token="t",
        identity_secret=secrets.token_hex(16),
        port=free_port(),
        actions_port=free_port(),
    )


async def test_cross_origin_socket_is_refused(settings: Settings) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(f"{base_url}/ws/chat", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403


async def refused_hello(base_url: str, hello: dict[str, Any]) -> tuple[dict[str, Any], aiohttp.WSMessage]:
    """The error frame and the close frame the gateway answers a hello it does not trust with."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{base_url}/ws/chat", headers={"Origin": base_url}) as socket:
            await socket.send_json({"type": "hello"} | hello)
            return await socket.receive_json(timeout=10), await socket.receive(timeout=10)


def signed_hello(secret: str, age_s: int) -> dict[str, Any]:
    return sign_customer("c1001", secret, issued_at=int(time.time()) - age_s).hello_fields()


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("forged", "bad_signature"),
        ("expired", "expired"),  # older than identity_max_age_s: the page must be reloaded for a new one
        ("future", "bad_signature"),  # issued more than 5 minutes ahead of the gateway's clock
        ("unsigned time", "bad_signature"),  # a signature over the customer id alone, as before issue times
    ],
)
async def test_untrusted_identity_is_refused(settings: Settings, who: str, code: str) -> None:
    hello = {
        "forged": signed_hello("wrong secret", 0),
        "expired": signed_hello(settings.identity_secret, settings.identity_max_age_s + 1),
        "future": signed_hello(settings.identity_secret, -MAX_CLOCK_SKEW_S - 60),
        "unsigned time": {"customer_id": "c1001",
                          "signature": hmac.new(settings.identity_secret.encode(), b"c1001", "sha256").hexdigest()},
    }[who]
    async with running_gateway(settings, run_pipeline=False) as base_url:
        answer, closing = await refused_hello(base_url, hello)
    assert answer == {"type": "error", "code": code}
    assert closing.type == aiohttp.WSMsgType.CLOSE
    assert closing.data == 4401


async def test_max_age_is_the_configured_one(settings: Settings) -> None:
    short = dataclasses.replace(settings, identity_max_age_s=60)
    async with running_gateway(short, run_pipeline=False) as base_url:
        answer, _ = await refused_hello(base_url, signed_hello(settings.identity_secret, 120))
        async with chat(base_url, customer_id="c1001", secret=settings.identity_secret) as fresh:
            assert fresh.welcome["conversation_id"] == "cust:c1001"
    assert answer["code"] == "expired"


@pytest.mark.parametrize("demo", [False, True])
async def test_demo_page_only_in_demo_mode(settings: Settings, demo: bool) -> None:
    """Outside demo mode no page hands out signatures made with the installation's secret."""
    async with running_gateway(dataclasses.replace(settings, demo=demo), run_pipeline=False) as base_url:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base_url}/?as=c1001") as page:
                status, body = page.status, await page.text()
            async with session.get(f"{base_url}/static/widget.js") as widget:
                assert widget.status == 200  # shops embed it whatever the mode
    assert status == (200 if demo else 404)
    assert ('data-signature="' in body) is demo


async def test_signed_customer_gets_their_conversation(settings: Settings) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url:
        async with chat(base_url, customer_id="c1001", secret=settings.identity_secret) as customer:
            assert customer.welcome["type"] == "welcome"
            assert customer.welcome["conversation_id"] == "cust:c1001"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json at all", "bad_json"),
        ('{"type": "message", "id": "m1", "text": "   "}', "empty"),
        ('{"type": "message", "id": "m2", "text": 42}', "bad_request"),
        ('{"type": "message", "text": "no id"}', "bad_request"),
        ('{"type": "nonsense"}', "bad_request"),
    ],
)
async def test_bad_frames_get_a_clear_error(settings: Settings, frame: str, code: str) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url, chat(base_url) as visitor:
        await visitor.socket.send_str(frame)
        answer = await visitor.next_frame()
    assert answer["type"] == "error"
    assert answer["code"] == code


async def test_oversized_message_is_refused_in_the_customers_language(settings: Settings) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url, chat(base_url) as visitor:
        answer = await visitor.send("太长了" * 1000)
    assert answer["code"] == "too_long"
    assert "2000" in answer["message"]


async def test_oversized_message_is_kept_clipped_for_agents_like_on_every_channel(
    settings: Settings, redis_client
) -> None:
    """The shared intake rule (kefu/channels/intake.py): not for the bot, but never lost to the agents."""
    async with running_gateway(settings, run_pipeline=False) as base_url, chat(base_url) as visitor:
        await visitor.send("退货" * 1500, message_id="long-1")
        again = await visitor.send("退货" * 1500, message_id="long-1")
        conversation = visitor.welcome["conversation_id"]
    transcript = await ConversationStore(redis_client).transcript(conversation)
    assert [e["role"] for e in transcript] == ["customer", "bot"]
    assert transcript[0]["text"].startswith("退货" * 1000) and "1000 more characters" in transcript[0]["text"]
    assert "2000" in transcript[1]["text"]
    assert again["code"] == "too_long"
    assert sum([await redis_client.xlen(keys.inbox_stream(s)) for s in range(settings.shards)]) == 0


async def test_message_is_queued_once_and_kept_in_the_transcript(settings: Settings, redis_client) -> None:
    async with running_gateway(settings, run_pipeline=False) as base_url:
        async with chat(base_url, customer_id="c1002", secret=settings.identity_secret) as customer:
            first = await customer.send("where is my order", message_id="abc")
            again = await customer.send("where is my order", message_id="abc")
    assert first == {"type": "ack", "id": "abc", "duplicate": False}
    assert again == {"type": "ack", "id": "abc", "duplicate": True}
    transcript = await redis_client.lrange("kefu:conv:cust:c1002:transcript", 0, -1)
    assert len(transcript) == 1
    entries = [e async for key in redis_client.scan_iter("kefu:inbox:*") for e in await redis_client.xrange(key)]
    assert len(entries) == 1
    # The client's address travels with the message: the action server limits order-verification tries by it.
    assert InboundMessage.from_json(entries[0][1]["message"]).metadata == {"client_address": "127.0.0.1"}


async def test_redis_outage_is_reported_and_nothing_is_acknowledged(settings: Settings) -> None:
    with redis_server() as own_redis_url:
        own = dataclasses.replace(settings, redis_url=own_redis_url)
        async with running_gateway(own, run_pipeline=False) as base_url, chat(base_url) as visitor:
            stop_redis(own_redis_url)
            answer = await visitor.send("我的订单到哪了", message_id="kept")
    # Not acknowledged: the widget keeps the message in its outbox and sends it again later.
    assert answer["type"] == "error"
    assert answer["code"] == "unavailable"
    assert answer["retry"] is True


async def test_redis_down_at_connect_says_try_again(settings: Settings) -> None:
    down = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with running_gateway(down, run_pipeline=False) as base_url, aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{base_url}/ws/chat", headers={"Origin": base_url}) as socket:
            await socket.send_json({"type": "hello", "visitor_id": "v" * 20})
            answer = await socket.receive_json(timeout=10)
            closing = await socket.receive(timeout=10)
    assert answer == {"type": "error", "code": "unavailable", "retry": True}
    assert closing.data == 1013
