"""The order-events webhook on a real gateway and Redis: a signed event reaches the customer's web chat; every
refusal is a 4xx that sends nothing; an event id is told once; a customer who opted out hears nothing."""
from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.conversations import ConversationStore
from tests.helpers.gateway import ChatClient, chat
from tests.kefu.commitments.rig import IDENTITY_SECRET, Rig, event, running_rig

CONVERSATION = "cust:c1001"


@pytest.fixture
async def rig(redis_url: str) -> AsyncIterator[Rig]:
    async with running_rig(redis_url, run_pipeline=False) as rig:
        yield rig


@pytest.fixture
async def answering_rig(redis_url: str) -> AsyncIterator[Rig]:
    """With the pipeline, whose interceptors read the customer's stop/start commands."""
    async with running_rig(redis_url) as rig:
        yield rig


async def next_message(customer: ChatClient) -> dict:
    return (await customer.replies(1, timeout=15))[0]


async def transcript(redis: aioredis.Redis) -> list[dict]:
    return await ConversationStore(redis).transcript(CONVERSATION)


async def test_a_shipped_event_reaches_the_customers_web_chat(rig: Rig) -> None:
    async with chat(rig.base_url, customer_id="c1001", secret=IDENTITY_SECRET) as customer:
        status, answer = await rig.shop.post(event("shipped", carrier="SF", tracking_no="SF1400000001"))
        assert (status, answer["status"]) == (200, "sent")
        message = await next_message(customer)
    assert message["role"] == "system"
    assert "DD20261104002" in message["text"] and "顺丰速运" in message["text"] and "SF1400000001" in message["text"]
    assert message["buttons"] == [{"title": "退订通知", "payload": "/stop_updates"}]


async def test_an_english_customer_is_told_in_english(rig: Rig, redis_client: aioredis.Redis) -> None:
    await ConversationStore(redis_client).set_language("cust:c1002", "en")
    async with chat(rig.base_url, customer_id="c1002", secret=IDENTITY_SECRET) as customer:
        status, _ = await rig.shop.post(event("refund_completed", order_id="DD20261104011", amount=336.0))
        assert status == 200
        message = await next_message(customer)
    assert message["text"].startswith("Your refund of ¥336.00 for order DD20261104011 has been completed")
    assert message["buttons"][0]["title"] == "Stop updates"


def tampered(rig: Rig) -> list[tuple[str, bytes, dict[str, str], int, str]]:
    """Requests the webhook must refuse: (name, body, headers, status, error)."""
    good = json.dumps(event()).encode()
    body, headers = rig.shop.request(good)
    now = time.time()
    cases = [
        ("bad signature", good, headers | {"X-Kefu-Signature": "sha256=" + "0" * 64}, 401, "bad_signature"),
        ("other secret", *_signed_with("not-the-secret", good), 401, "bad_signature"),
        ("no signature", good, {k: v for k, v in headers.items() if k != "X-Kefu-Signature"}, 401, "missing_signature"),
        ("no timestamp", good, {k: v for k, v in headers.items() if k != "X-Kefu-Timestamp"}, 401, "bad_timestamp"),
        ("stale", *rig.shop.request(good, now - 310), 401, "stale_timestamp"),
        ("from the future", *rig.shop.request(good, now + 310), 401, "stale_timestamp"),
        ("malformed", *rig.shop.request(b'{"id": "evt-x", "type": '), 400, "bad_json"),
        ("unknown type", *rig.shop.request(event("teleported")), 422, "unknown_type"),
        ("no id", *rig.shop.request({"type": "shipped", "order_id": "DD20261104002"}), 422, "invalid_event"),
        ("unknown order", *rig.shop.request(event(order_id="DD20269999999")), 404, "unknown_order"),
        ("not JSON by type", good, headers | {"Content-Type": "text/plain"}, 415, "bad_content_type"),
        ("too large", *rig.shop.request(b" " * (65 * 1024)), 413, "too_large"),
    ]
    assert body == good
    return cases


def _signed_with(secret: str, body: bytes) -> tuple[bytes, dict[str, str]]:
    from kefu.commitments.signing import signed_headers

    return body, signed_headers(secret, body)


async def test_every_refusal_is_a_clear_4xx_and_sends_nothing(rig: Rig, redis_client: aioredis.Redis) -> None:
    async with chat(rig.base_url, customer_id="c1001", secret=IDENTITY_SECRET) as customer:
        for name, body, headers, expected, error in tampered(rig):
            status, answer = await rig.shop.send(body, headers)
            assert (status, answer.get("error")) == (expected, error), name
            assert answer["message"], name
        assert await transcript(redis_client) == []
        assert [key async for key in redis_client.scan_iter(match=keys.order_event_seen("*"))] == []
        # The first message the customer gets is the one valid event sent after all of them.
        marker = event("delivered")
        assert (await rig.shop.post(marker))[0] == 200
        assert "已签收" in (await next_message(customer))["text"]
    assert len(await transcript(redis_client)) == 1


async def test_a_replayed_request_is_refused_and_a_redelivered_event_is_told_once(
    rig: Rig, redis_client: aioredis.Redis
) -> None:
    shipped = event("shipped")
    body, headers = rig.shop.request(shipped)
    async with chat(rig.base_url, customer_id="c1001", secret=IDENTITY_SECRET) as customer:
        assert (await rig.shop.send(body, headers))[1]["status"] == "sent"
        status, answer = await rig.shop.send(body, headers)  # the same signed request again
        assert (status, answer["error"]) == (409, "replayed")
        # The shop redelivers the event, signed afresh (a new timestamp: the same second would be the same request).
        status, answer = await rig.shop.post(shipped, now=int(headers["X-Kefu-Timestamp"]) + 1)
        assert (status, answer) == (200, {"event_id": shipped["id"], "status": "duplicate"})
        assert (await rig.shop.post(event("delivered")))[0] == 200
        first, second = await customer.replies(2, timeout=15)
    assert "已发货" in first["text"] and "已签收" in second["text"]
    assert [entry["text"][:6] for entry in await transcript(redis_client)] == [first["text"][:6], second["text"][:6]]


async def test_a_customer_who_opts_out_hears_nothing_until_they_opt_in(
    answering_rig: Rig, redis_client: aioredis.Redis
) -> None:
    rig = answering_rig
    async with chat(rig.base_url, customer_id="c1001", secret=IDENTITY_SECRET) as customer:
        assert (await customer.send("退订通知", payload="/stop_updates"))["type"] == "ack"
        assert "不再给您发送订单通知" in (await next_message(customer))["text"]
        assert await redis_client.exists(keys.updates_opted_out(CONVERSATION))
        status, answer = await rig.shop.post(event("shipped"))
        assert (status, answer["status"]) == (200, "opted_out")
        assert (await customer.send("恢复通知"))["type"] == "ack"  # typed, no button
        assert "会在这里通知您" in (await next_message(customer))["text"]
        assert (await rig.shop.post(event("delivered")))[1]["status"] == "sent"
        assert "已签收" in (await next_message(customer))["text"]
    texts = [entry["text"] for entry in await transcript(redis_client) if entry["role"] != "customer"]
    assert not any("已发货" in text or "发出" in text for text in texts)  # the shipped update never went out


async def test_without_a_secret_the_webhook_accepts_nothing(redis_url: str) -> None:
    from kefu.config.commitments import CommitmentSettings

    async with running_rig(redis_url, run_pipeline=False, commitments=CommitmentSettings()) as rig:
        status, answer = await rig.shop.post(event())
        assert (status, answer["error"]) == (503, "not_configured")
