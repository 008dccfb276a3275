"""Linking a channel user to a customer: the chat from before the link joins the customer's one history.

Wrong tries are limited (issue 9 #2): atomically, per channel user, per order, per customer and per Telegram
user across chats, and a success resets nothing; a link can be undone by the customer and by an agent.
"""
from __future__ import annotations

import asyncio
from collections import Counter

import pytest
import redis.asyncio as aioredis

from fakes.telegram import update
from fakes.wechat import fixture
from kefu.channels.linking import (
    LINK_FAILURE_WINDOW_S,
    MAX_LINK_FAILURES,
    MAX_LINK_FAILURES_PER_CUSTOMER,
    MAX_LINK_FAILURES_PER_PERSON,
    Customers,
    LinkOutcome,
    LinkRequest,
    UnlinkOutcome,
    channel_conversation,
    parse_link_command,
    parse_unlink_command,
)
from kefu.core import keys
from kefu.core.attempts import ORDER_PROOF_LIMIT
from kefu.core.conversations import ConversationStore
from kefu.core.i18n import t
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage
from kefu.ops.runtime import seed_demo
from kefu.orders.demo import DemoOrderBackend
from tests.helpers.telegram_rig import both_channels_gateway

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


# -- wrong tries are limited ----------------------------------------------------------------------------------
def wrong(order_id: str = ZHANG.order_id, n: int = 0) -> LinkRequest:
    return LinkRequest(order_id, f"{1000 + n}")  # no demo phone ends in 1000-1099


def outcomes(results: list[tuple[LinkOutcome, str | None]]) -> Counter:
    return Counter(outcome for outcome, _ in results)


async def test_concurrent_wrong_tries_cannot_exceed_the_limit(customers: Customers) -> None:
    """Check and count are one step: a burst of 30 guesses at once gets no more answers than 5 one by one."""
    burst = await asyncio.gather(*(customers.link("telegram", "9001", wrong(n=n)) for n in range(30)))
    assert outcomes(burst) == {LinkOutcome.FAILED: MAX_LINK_FAILURES, LinkOutcome.LOCKED: 30 - MAX_LINK_FAILURES}
    assert await customers.link("telegram", "9001", ZHANG) == (LinkOutcome.LOCKED, None)  # right digits too


async def test_a_burst_with_the_right_digits_in_it_reveals_nothing_past_the_limit(customers: Customers) -> None:
    """Guesses at one order from many users at once: no more wrong answers than the order's limit."""
    tries = [customers.link("wechat", f"oSpray{n}", wrong(n=n)) for n in range(20)]
    tries.append(customers.link("wechat", "oSprayRight", ZHANG))
    results = await asyncio.gather(*tries)
    assert outcomes(results[:-1]) == {LinkOutcome.FAILED: ORDER_PROOF_LIMIT, LinkOutcome.LOCKED: 20 - ORDER_PROOF_LIMIT}
    assert results[-1][0] in (LinkOutcome.LINKED, LinkOutcome.LOCKED)  # linked only if it came before the lock


async def test_a_success_does_not_reset_the_count(customers: Customers) -> None:
    for n in range(MAX_LINK_FAILURES - 1):
        assert (await customers.link("telegram", "9002", wrong(EMMA.order_id, n)))[0] is LinkOutcome.FAILED
    assert await customers.link("telegram", "9002", ZHANG) == (LinkOutcome.LINKED, "c1001")
    assert (await customers.link("telegram", "9002", wrong(EMMA.order_id, 9)))[0] is LinkOutcome.FAILED
    # The success above bought nothing: this user's fifth wrong try used up the hour, right digits included.
    assert await customers.link("telegram", "9002", ZHANG) == (LinkOutcome.LOCKED, None)


async def test_another_channel_user_trying_the_same_order_is_still_locked(
    customers: Customers, redis_client: aioredis.Redis
) -> None:
    for n in range(ORDER_PROOF_LIMIT):
        assert (await customers.link("wechat", "oGuesser", wrong(n=n)))[0] is LinkOutcome.FAILED
    for channel, user_id in (("wechat", "oFresh"), ("telegram", "9003")):
        assert await customers.link(channel, user_id, ZHANG) == (LinkOutcome.LOCKED, None)
    # The chat's own order check (actions/resolve.py) counts against this same counter: one order, one secret.
    assert int(await redis_client.get(keys.verify_failures("order", ZHANG.order_id))) == ORDER_PROOF_LIMIT
    # The lock is on the guessed order and the guesser, not on everyone.
    assert await customers.link("wechat", "oEmma", EMMA) == (LinkOutcome.LINKED, "c1002")


async def test_a_second_chat_of_the_same_telegram_user_is_still_locked(customers: Customers) -> None:
    """A new group is a new chat id, not a new person: the Telegram user's count follows them."""
    for n in range(MAX_LINK_FAILURES_PER_PERSON):  # a different unknown order each time: no order counter fills
        request = wrong(f"DD2026990{n:04d}", n)
        assert (await customers.link("telegram", "-100501", request, person="4242"))[0] is LinkOutcome.FAILED
    assert await customers.link("telegram", "-100777", ZHANG, person="4242") == (LinkOutcome.LOCKED, None)
    assert await customers.link("telegram", "4242", ZHANG, person="4242") == (LinkOutcome.LOCKED, None)
    # Someone else in that new group is not locked out by the guesser.
    assert await customers.link("telegram", "-100777", ZHANG, person="5151") == (LinkOutcome.LINKED, "c1001")


async def test_wrong_tries_at_one_customers_orders_are_limited_from_anywhere(customers: Customers) -> None:
    """张伟 has nine orders: spreading guesses over them (and over fresh users) stops at the customer's limit."""
    for n in range(MAX_LINK_FAILURES_PER_CUSTOMER):
        order_id = f"DD2026110400{n % 5 + 1}"  # orders 1-5, two wrong tries each: no order counter fills
        assert (await customers.link("wechat", f"oHop{n}", wrong(order_id, n)))[0] is LinkOutcome.FAILED
    assert await customers.link("wechat", "oOwner", LinkRequest("DD20261104006", "5678")) == (LinkOutcome.LOCKED,
                                                                                           None)
    assert await customers.link("wechat", "oEmma", EMMA) == (LinkOutcome.LINKED, "c1002")


async def test_counters_expire_after_the_window_and_outlive_a_success(
    customers: Customers, redis_client: aioredis.Redis
) -> None:
    await customers.link("telegram", "9004", wrong(EMMA.order_id), person="9004")
    assert await customers.link("telegram", "9004", ZHANG, person="9004") == (LinkOutcome.LINKED, "c1001")
    for key in (keys.link_failures("telegram", "9004"), keys.link_failures("telegram-person", "9004"),
                keys.link_failures("customer", "c1002"), keys.verify_failures("order", EMMA.order_id)):
        assert await redis_client.get(key) == "1", key
        assert 0 < await redis_client.ttl(key) <= LINK_FAILURE_WINDOW_S, key


async def test_telegram_group_chats_count_the_user_behind_them(redis_url: str, redis_client: aioredis.Redis) -> None:
    """Over the webhook: wrong tries from one Telegram user in one group lock their link in another group."""
    await seed_demo(redis_url)
    async with both_channels_gateway(redis_url, redis_client, passive_wait_s=0.05) as gateway:
        tg = gateway.telegram
        for n in range(MAX_LINK_FAILURES_PER_PERSON):
            tried = in_group(update("message", update_id=600 + n, text=f"/link DD2026990{n:04d} {1000 + n}"), -1001)
            assert await tg.post(tried) == 200
        await tg.sent_count(MAX_LINK_FAILURES_PER_PERSON)
        assert await tg.post(in_group(update("message", update_id=610, text="/link DD20261104001 5678"), -1002)) == 200
        sent = await tg.sent_count(MAX_LINK_FAILURES_PER_PERSON + 1)
        assert sent[-1]["chat"]["id"] == -1002 and sent[-1]["text"] == t("channels.link_locked", "zh")
        assert await redis_client.get(keys.link("telegram", "-1002")) is None


def in_group(body: dict, chat_id: int) -> dict:
    """The recorded message as if sent in a group: the chat id changes, the sender (``from``) does not."""
    body["message"]["chat"] = {"id": chat_id, "type": "group", "title": "family"}
    return body


# -- unlinking ----------------------------------------------------------------------------------------------------
def test_unlink_command_is_parsed_and_anything_else_is_not() -> None:
    for text in ("/unlink", " 解绑 ", "UNLINK", "/unlink@kefu_shop_bot", "解除绑定"):
        assert parse_unlink_command(text), text
        assert parse_link_command(text) is None, text
    for text in ("unlink my account please", "/unlinked", "解绑 DD20261104001 5678", "", "/link"):
        assert not parse_unlink_command(text), text


async def test_unlinking_sends_the_users_next_message_to_its_own_conversation(
    customers: Customers, redis_client: aioredis.Redis
) -> None:
    inbox, store = Inbox(redis_client, shards=2), ConversationStore(redis_client)
    await write(customers, inbox, "telegram", "7301", "before the link", 100.0)
    assert (await customers.link("telegram", "7301", ZHANG))[0] is LinkOutcome.LINKED
    await write(customers, inbox, "telegram", "7301", "as 张伟", 200.0)
    assert await customers.linked_users("c1001") == [("telegram", "7301")]

    assert await customers.unlink("telegram", "7301") is UnlinkOutcome.UNLINKED
    user = await customers.resolve("telegram", "7301")
    assert (user.conversation_id, user.customer_id) == ("telegram:7301", None)
    await write(customers, inbox, "telegram", "7301", "after unlinking", 300.0)
    assert turns(await store.transcript("telegram:7301")) == [("telegram", "after unlinking")]
    assert turns(await store.transcript("cust:c1001")) == [("telegram", "before the link"), ("telegram", "as 张伟")]
    assert await customers.address("cust:c1001", "telegram") is None  # the customer's replies stop going there
    assert await customers.linked_users("c1001") == []
    assert await customers.unlink("telegram", "7301") is UnlinkOutcome.NOT_LINKED
    # Linking again works, and sweeps in only what was written since.
    assert (await customers.link("telegram", "7301", ZHANG))[0] is LinkOutcome.LINKED
    assert turns(await store.transcript("cust:c1001"))[-1] == ("telegram", "after unlinking")


async def test_an_unlinked_user_no_longer_reaches_the_customers_handoff(
    customers: Customers, redis_client: aioredis.Redis
) -> None:
    from kefu.handoff.state import HandoffStore
    from tests.kefu.channels.test_history_merge import held, said

    trigger = await said(redis_client, "telegram:7301", "I want to complain", 100.0, "telegram")
    handoff = await held(redis_client, "telegram:7301", trigger)
    await customers.link("telegram", "7301", ZHANG)
    store = HandoffStore(redis_client)
    assert (await store.holding("cust:c1001")).ticket_id == handoff.ticket_id
    assert await customers.unlink("telegram", "7301") is UnlinkOutcome.UNLINKED
    assert await store.holding("telegram:7301") is None  # its next message goes to the bot, in its own chat
    assert (await store.holding("cust:c1001")).ticket_id == handoff.ticket_id  # the customer keeps the agent


async def test_customers_unlink_themselves_in_their_language(redis_url: str, redis_client: aioredis.Redis) -> None:
    await seed_demo(redis_url)
    async with both_channels_gateway(redis_url, redis_client, passive_wait_s=0.05) as gateway:
        tg, wx = gateway.telegram, gateway.wechat
        _, body = await wx.deliver(fixture("text", openid="oZhangWei", msg_id="9501", content="绑定 DD20261104001 5678"))
        assert wx.reply_text(body) == t("channels.link_done", "zh")
        _, body = await wx.deliver(fixture("text", openid="oZhangWei", msg_id="9502", content="解绑"))
        assert wx.reply_text(body) == t("linking.unlink_done", "zh")
        assert await redis_client.get(keys.link("wechat", "oZhangWei")) is None
        _, body = await wx.deliver(fixture("text", openid="oZhangWei", msg_id="9503", content="解绑"))
        assert wx.reply_text(body) == t("linking.unlink_none", "zh")

        assert await tg.post(update("message", update_id=81, text="link DD20261104010 1111")) == 200
        assert await tg.post(update("message", update_id=82, text="/unlink")) == 200
        sent = await tg.sent_count(2)
        assert [m["text"] for m in sent] == [t("channels.link_done", "en"), t("linking.unlink_done", "en")]
        queued = [m.text for m in await tg.queued() if m.channel == "telegram"]
        assert queued == []  # neither command went to the bot
        history = await ConversationStore(redis_client).transcript("cust:c1002")
        assert "/unlink" in [entry["text"] for entry in history]  # agents see that the customer unlinked


async def test_linking_to_another_customer_unlinks_the_first(customers: Customers) -> None:
    """A chat is one customer's at a time: the first customer's replies stop reaching it."""
    await customers.link("telegram", "7301", ZHANG)
    assert await customers.address("cust:c1001", "telegram") == "7301"
    assert await customers.link("telegram", "7301", EMMA) == (LinkOutcome.LINKED, "c1002")
    assert await customers.address("cust:c1001", "telegram") is None
    assert (await customers.linked_users("c1001"), await customers.linked_users("c1002")) == (
        [], [("telegram", "7301")])
