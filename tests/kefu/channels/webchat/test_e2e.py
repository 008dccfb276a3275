"""End to end over the web-chat websocket: gateway -> inbox stream -> real Rasa -> real actions -> widget."""
from __future__ import annotations

import json
import re

import pytest
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.core.i18n import detect_language
from kefu.orders.demo import order_key
from tests.helpers.gateway import chat

pytestmark = pytest.mark.stack


async def order_in_redis(settings: Settings, order_id: str) -> dict:
    client = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        return json.loads(await client.get(order_key(order_id)))
    finally:
        await client.aclose()


def assert_lang(reply: str, lang: str) -> None:
    """The answer's first sentence is in the language (addresses, places and agents' notes may be Chinese)."""
    first = re.split(r"[。\n:：]", reply, maxsplit=1)[0]
    assert detect_language(first) == lang, reply


async def test_order_status_zh(gateway: str, stack_settings: Settings) -> None:
    async with chat(gateway, customer_id="c1001", secret=stack_settings.identity_secret) as customer:
        reply = await customer.ask("我的订单DD20261104005到哪了")
    assert "DD20261104005" in reply
    assert_lang(reply, "zh")


async def test_order_status_en_uses_the_only_open_order(gateway: str, stack_settings: Settings) -> None:
    async with chat(gateway, customer_id="c1002", secret=stack_settings.identity_secret) as customer:
        reply = await customer.ask("hey where is my parcel??")
    assert "DD20261104010" in reply
    assert_lang(reply, "en")


@pytest.mark.parametrize(
    ("customer_id", "request_text", "yes", "lang"),
    [
        ("c1001", "帮我把订单DD20261104002取消掉", "确认", "zh"),
        ("c1004", "please cancel my order DD20261104018", "yes", "en"),
    ],
)
async def test_cancel_asks_then_cancels(
    gateway: str, stack_settings: Settings, customer_id: str, request_text: str, yes: str, lang: str
) -> None:
    order_id = request_text[request_text.index("DD"):][:13]
    async with chat(gateway, customer_id=customer_id, secret=stack_settings.identity_secret) as customer:
        question = await customer.ask(request_text)
        assert order_id in question
        assert_lang(question, lang)
        assert (await order_in_redis(stack_settings, order_id))["status"] != "cancelled"
        done = await customer.ask(yes)
    assert_lang(done, lang)
    assert (await order_in_redis(stack_settings, order_id))["status"] == "cancelled"


async def test_cancel_then_no_keeps_the_order(gateway: str, stack_settings: Settings) -> None:
    async with chat(gateway, customer_id="c1001", secret=stack_settings.identity_secret) as customer:
        await customer.ask("DD20261104002 不要了,取消订单")
        await customer.ask("算了不取消了")
    assert (await order_in_redis(stack_settings, "DD20261104002"))["status"] == "paid"


@pytest.mark.parametrize(
    ("customer_id", "request_text", "yes", "new_address_part", "lang"),
    [
        ("c1001", "订单DD20261104001的地址改成上海市浦东新区世纪大道100号 王五 13800001111", "对的", "世纪大道100号", "zh"),
        ("c1004", "change the address of DD20261104018 to 25 Huaihai Road, Xuhui District, Shanghai", "yes please",
         "25 Huaihai Road", "en"),
    ],
)
async def test_change_address(
    gateway: str, stack_settings: Settings, customer_id: str, request_text: str, yes: str,
    new_address_part: str, lang: str,
) -> None:
    order_id = request_text[request_text.index("DD"):][:13]
    async with chat(gateway, customer_id=customer_id, secret=stack_settings.identity_secret) as customer:
        question = await customer.ask(request_text)
        assert new_address_part in question
        assert_lang(question, lang)
        await customer.ask(yes)
    assert new_address_part in json.dumps(await order_in_redis(stack_settings, order_id), ensure_ascii=False)


@pytest.mark.parametrize(
    ("customer_id", "text", "expected", "lang"),
    [
        ("c1001", "DD20261104003 我要退款", "T-", "zh"),
        ("c1002", "i want my money back for DD20261104010", "DD20261104010", "en"),
        ("c1001", "DD20261104006 衣服不合适想退货", "DD20261104006", "zh"),
        ("c1002", "can I return DD20261104011? doesn't fit", "DD20261104011", "en"),
        ("c1001", "DD20261104002 帮我开张发票", "DD20261104002", "zh"),
        ("c1002", "I need a VAT invoice for order DD20261104011", "DD20261104011", "en"),
        ("c1001", "T-100871 这个工单处理到哪一步了", "T-100871", "zh"),
        ("c1001", "what's happening with ticket T-100871?", "being handled", "en"),
        ("c1003", "运费怎么算,满多少免邮", "99", "zh"),
        ("c1004", "which payment methods can I use", "Alipay", "en"),
    ],
)
async def test_routine_topics(
    gateway: str, stack_settings: Settings, customer_id: str, text: str, expected: str, lang: str
) -> None:
    async with chat(gateway, customer_id=customer_id, secret=stack_settings.identity_secret) as customer:
        reply = await customer.ask(text)
    assert expected in reply
    assert_lang(reply, lang)


async def test_refund_of_unshipped_order_is_immediate(gateway: str, stack_settings: Settings) -> None:
    async with chat(gateway, customer_id="c1003", secret=stack_settings.identity_secret) as customer:
        reply = await customer.ask("DD20261104014 还没发货,我要退款")
    assert "DD20261104014" in reply
    assert (await order_in_redis(stack_settings, "DD20261104014"))["status"] == "refunded"


async def test_anonymous_visitor_proves_the_order_with_phone_digits(gateway: str) -> None:
    async with chat(gateway) as visitor:
        question = await visitor.ask("我的订单 DD20261104005 到哪里了")
        assert "后四位" in question
        assert "顺丰" not in question and "物流" not in question  # nothing about the order before proof
        answer = await visitor.ask("5678")
    assert "DD20261104005" in answer
    assert_lang(answer, "zh")


async def test_someone_elses_order_is_not_shown(gateway: str, stack_settings: Settings) -> None:
    async with chat(gateway, customer_id="c1002", secret=stack_settings.identity_secret) as customer:
        reply = await customer.ask("where is order DD20261104005")
    assert "couldn't find order DD20261104005" in reply


async def test_unknown_order_gets_a_specific_answer(gateway: str, stack_settings: Settings) -> None:
    async with chat(gateway, customer_id="c1001", secret=stack_settings.identity_secret) as customer:
        reply = await customer.ask("DD20269999999 这个订单到哪了")
    assert "DD20269999999" in reply
    assert_lang(reply, "zh")


async def test_reconnecting_shows_the_history(gateway: str, stack_settings: Settings) -> None:
    async with chat(gateway, customer_id="c1001", secret=stack_settings.identity_secret) as customer:
        reply = await customer.ask("你好")
    async with chat(gateway, customer_id="c1001", secret=stack_settings.identity_secret) as again:
        history = again.welcome["history"]
    assert [entry["role"] for entry in history][:2] == ["customer", "bot"]
    assert history[0]["text"] == "你好"
    assert history[1]["text"] in reply


async def test_transcript_records_what_the_bot_understood(gateway: str, stack_settings: Settings) -> None:
    from kefu.core.conversations import ConversationStore

    async with chat(gateway, customer_id="c1002", secret=stack_settings.identity_secret) as customer:
        await customer.ask("where is my order DD20261104010")
    client = aioredis.Redis.from_url(stack_settings.redis_url, decode_responses=True)
    try:
        transcript = await ConversationStore(client).transcript("cust:c1002")
        record = await ConversationStore(client).record("cust:c1002")
    finally:
        await client.aclose()
    customer_turn = transcript[0]
    assert customer_turn["channel"] == "web"
    assert customer_turn["understanding"]["intent"] == "order_status"
    assert customer_turn["understanding"]["confidence"] > 0.5
    assert {"entity": "order_id", "value": "DD20261104010"}.items() <= customer_turn["understanding"]["entities"][0].items()
    assert record["lang"] == "en"
    assert all(entry["ts"] > 0 for entry in transcript)
