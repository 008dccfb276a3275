"""Linking a channel user to a customer: the chat from before the link joins the customer's one history."""
from __future__ import annotations

from collections import Counter

import pytest
import redis.asyncio as aioredis

from kefu.channels.linking import (
    Customers,
    LinkOutcome,
    LinkRequest,
    channel_conversation,
    parse_link_command,
)
from kefu.core.conversations import ConversationStore
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage
from kefu.ops.runtime import seed_demo
from kefu.orders.demo import DemoOrderBackend

ZHANG = LinkRequest("DD20261104001", "5678")  # 张伟, c1001
EMMA = LinkRequest("DD20261104010", "1111")  # Emma Wilson, c1002


@pytest.fixture
async def customers(redis_url: str, redis_client: aioredis.Redis) -> Customers:
    await seed_demo(redis_url)
    return Customers(redis_client, DemoOrderBackend(redis_client))


async def write(customers: Customers, inbox: Inbox, channel: str, user_id: str, text: str, ts: float) -> None:
    """What a connector does with a customer's message: resolve who writes, then store it."""
    user = await customers.resolve(channel, user_id)
    message = InboundMessage(channel=channel, sender=user_id, conversation_id=user.conversation_id, text=text,
                             message_id=f"{channel}-{ts}", customer_id=user.customer_id, received_at=ts)
    assert await inbox.record(message)


def turns(transcript: list[dict]) -> list[tuple[str, str]]:
    return [(entry["channel"], entry["text"]) for entry in transcript]


def test_link_command_is_parsed_and_anything_else_is_not() -> None:
    assert parse_link_command("绑定 dd20261104001 5678") == ZHANG
    assert parse_link_command("/link DD20261104001，5678") == ZHANG
    assert parse_link_command("/link DD20261104001 567") is None
    assert parse_link_command("where is DD20261104001 5678?") is None


async def test_linking_merges_the_chat_before_the_link_in_time_order(
    customers: Customers, redis_client: aioredis.Redis
) -> None:
    inbox, store = Inbox(redis_client, shards=2), ConversationStore(redis_client)
    assert (await customers.link("wechat", "oZhang", ZHANG))[0] is LinkOutcome.LINKED
    await write(customers, inbox, "wechat", "oZhang", "我的订单到哪了", 100.0)
    await write(customers, inbox, "telegram", "7301", "hi, is anyone there?", 150.0)
    await write(customers, inbox, "wechat", "oZhang", "快递单号是多少", 200.0)
    await write(customers, inbox, "telegram", "7301", "my kettle is broken", 250.0)
    assert turns(await store.transcript("cust:c1001")) == [
        ("wechat", "我的订单到哪了"), ("wechat", "快递单号是多少")]

    assert await customers.link("telegram", "7301", ZHANG) == (LinkOutcome.LINKED, "c1001")
    await write(customers, inbox, "telegram", "7301", "any news?", 300.0)

    history = await store.transcript("cust:c1001")
    assert turns(history) == [
        ("wechat", "我的订单到哪了"), ("telegram", "hi, is anyone there?"), ("wechat", "快递单号是多少"),
        ("telegram", "my kettle is broken"), ("telegram", "any news?"),
    ]
    assert await store.transcript(channel_conversation("telegram", "7301")) == history
    assert await customers.address("cust:c1001", "telegram") == "7301"

    # Linking again (the customer sends the command twice) changes nothing.
    assert (await customers.link("telegram", "7301", ZHANG))[0] is LinkOutcome.LINKED
    again = await store.transcript("cust:c1001")
    assert again == history and max(Counter(e["id"] for e in again).values()) == 1


async def test_a_failed_link_merges_nothing(customers: Customers, redis_client: aioredis.Redis) -> None:
    inbox, store = Inbox(redis_client, shards=2), ConversationStore(redis_client)
    await write(customers, inbox, "telegram", "7301", "hello", 100.0)
    wrong = LinkRequest("DD20261104001", "0000")
    assert (await customers.link("telegram", "7301", wrong))[0] is LinkOutcome.FAILED
    assert turns(await store.transcript("telegram:7301")) == [("telegram", "hello")]
    assert await store.transcript("cust:c1001") == []
    assert "merged_into" not in await store.record("telegram:7301")


async def test_linking_to_another_customer_later_leaves_the_first_ones_history(
    customers: Customers, redis_client: aioredis.Redis
) -> None:
    inbox, store = Inbox(redis_client, shards=2), ConversationStore(redis_client)
    await write(customers, inbox, "telegram", "7301", "before any link", 100.0)
    await customers.link("telegram", "7301", ZHANG)
    await write(customers, inbox, "telegram", "7301", "as 张伟", 200.0)
    assert await customers.link("telegram", "7301", EMMA) == (LinkOutcome.LINKED, "c1002")
    await write(customers, inbox, "telegram", "7301", "as Emma", 300.0)
    assert turns(await store.transcript("cust:c1001")) == [
        ("telegram", "before any link"), ("telegram", "as 张伟")]
    assert turns(await store.transcript("cust:c1002")) == [("telegram", "as Emma")]
