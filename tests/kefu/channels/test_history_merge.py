"""Linking merges the pre-link chat into the customer's history: transcript, handoff, ticket, console view."""
from __future__ import annotations

import asyncio
import time
from collections import Counter

import aiohttp
import pytest
import redis.asyncio as aioredis

from fakes.telegram import EMMA, update
from fakes.wechat import fixture
from kefu.channels.linking import Customers, LinkOutcome, LinkRequest
from kefu.config.handoff import HandoffSettings
from kefu.core.conversations import ConversationStore
from kefu.core.i18n import t
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage
from kefu.core.tickets import TicketStore
from kefu.dialogue.rasa_client import RasaClient
from kefu.handoff.decision import Decision
from kefu.handoff.manager import HandoffManager
from kefu.handoff.state import Handoff, HandoffStore
from kefu.ops.runtime import seed_demo
from kefu.ops.stack import free_port
from kefu.orders.demo import DemoOrderBackend
from tests.helpers.console import add_user, signed_in
from tests.helpers.delivery import recording_delivery
from tests.helpers.telegram_rig import both_channels_gateway
from tests.kefu.console.test_auth import console  # noqa: F401  (fixture)

ZHANG = LinkRequest("DD20261104001", "5678")  # 张伟, c1001
CHAT = "telegram:7301"


@pytest.fixture
async def customers(redis_url: str, redis_client: aioredis.Redis) -> Customers:
    await seed_demo(redis_url)
    return Customers(redis_client, DemoOrderBackend(redis_client))


async def said(redis: aioredis.Redis, conversation_id: str, text: str, ts: float, channel: str) -> str:
    message = InboundMessage(channel=channel, sender="u", conversation_id=conversation_id, text=text,
                             message_id=f"{channel}-{ts}", received_at=ts,
                             customer_id="c1001" if conversation_id.startswith("cust:") else None)
    assert await Inbox(redis, shards=2).record(message)
    return message.message_id


async def held(
    redis: aioredis.Redis, conversation_id: str, trigger_id: str, customer_id: str = ""
) -> Handoff:
    """A waiting complaint handoff with its ticket, stored as HandoffManager.open stores them."""
    ticket = await TicketStore(redis).create(customer_id or None, conversation_id, "complaint", "high",
                                             "I want to complain", conversation_id.split(":")[0])
    handoff = Handoff(
        ticket_id=ticket.id, conversation_id=conversation_id, customer_id=customer_id,
        channel=conversation_id.split(":")[0] if not customer_id else "wechat", lang="en", reason="complaint",
        priority="high", trigger_id=trigger_id, trigger_text="I want to complain", created_at=time.time(),
    )
    await HandoffStore(redis).open(handoff, {})
    return handoff


async def test_an_open_handoff_follows_the_chat_and_the_console_shows_the_merged_history(
    console: str, redis_url: str, redis_client: aioredis.Redis, customers: Customers  # noqa: F811
) -> None:
    await said(redis_client, "cust:c1001", "我的订单到哪了", 100.0, "wechat")
    trigger = await said(redis_client, CHAT, "I want to complain", 200.0, "telegram")
    await said(redis_client, "cust:c1001", "快递单号是多少", 300.0, "wechat")
    handoff = await held(redis_client, CHAT, trigger)
    store = HandoffStore(redis_client)
    await store.add_note(CHAT, {"agent": "ann", "text": "angry about the kettle", "ts": 250.0, "ticket": "x"})
    password = await add_user(redis_url, "ann")
    async with signed_in(console, "ann", password) as agent:
        await agent.connect()
        assert await customers.link("telegram", "7301", ZHANG) == (LinkOutcome.LINKED, "c1001")

        event = await agent.wait_for(lambda e: e["type"] == "merged", 10)
        assert (event["from"], event["item"]["ticket_id"]) == (CHAT, handoff.ticket_id)
        assert (event["item"]["conversation_id"], event["item"]["customer_id"]) == ("cust:c1001", "c1001")
        status, packet = await agent.get(f"/console/api/tickets/{handoff.ticket_id}")
        assert status == 200, packet
        assert [(e["channel"], e["text"]) for e in packet["transcript"]] == [
            ("wechat", "我的订单到哪了"), ("telegram", "I want to complain"), ("wechat", "快递单号是多少")]
        assert packet["customer"] == {"customer_id": "c1001", "conversation_id": "cust:c1001",
                                      "channel": "telegram", "lang": "en"}
        assert packet["ticket"]["trigger"]["ts"] == 200.0
        assert [n["text"] for n in packet["notes"]] == ["angry about the kettle"]
        board = (await agent.get("/console/api/queue"))[1]
        assert [item["ticket_id"] for item in board["queue"]] == [handoff.ticket_id]
        # The customer's next message (now to cust:c1001) reaches the agent, not the bot; so does the old id.
        for conversation_id in ("cust:c1001", CHAT):
            holding = await store.holding(conversation_id)
            assert holding is not None and holding.ticket_id == handoff.ticket_id
        # The agent claims it; replies go to the customer's conversation, whose Telegram address is known.
        assert (await agent.act(handoff.ticket_id, "claim"))[0] == 200
    assert await customers.address("cust:c1001", "telegram") == "7301"
    ticket = await TicketStore(redis_client).get(handoff.ticket_id)
    assert ticket is not None and (ticket.customer_id, ticket.conversation_id) == ("c1001", "cust:c1001")
    assert (await TicketStore(redis_client).list_for("c1001"))[0].id == handoff.ticket_id  # newest of theirs

    # Linking again moves nothing twice and lists the handoff once.
    await customers.link("telegram", "7301", ZHANG)
    history = await ConversationStore(redis_client).transcript("cust:c1001")
    assert max(Counter(e["id"] for e in history).values()) == 1
    # Three turns, and the claim's notice: it was told in the customer's conversation.
    assert [e["role"] for e in history] == ["customer", "customer", "customer", "system"]
    assert [h.ticket_id for h in await store.active()] == [handoff.ticket_id]
    assert len(await store.notes("cust:c1001")) == 1


async def test_a_customer_already_held_keeps_their_handoff_and_both_stay_on_the_board(
    redis_client: aioredis.Redis, customers: Customers
) -> None:
    refund = await said(redis_client, "cust:c1001", "退款", 100.0, "wechat")
    first = await held(redis_client, "cust:c1001", refund, customer_id="c1001")
    second = await held(redis_client, CHAT, await said(redis_client, CHAT, "complaint", 200.0, "telegram"))
    store = HandoffStore(redis_client)
    await customers.link("telegram", "7301", ZHANG)

    holding = await store.holding("cust:c1001")
    assert holding is not None and holding.ticket_id == first.ticket_id
    moved = await store.get(second.ticket_id)
    assert moved is not None and (moved.conversation_id, moved.customer_id) == ("cust:c1001", "c1001")
    assert sorted(h.ticket_id for h in await store.active()) == sorted([first.ticket_id, second.ticket_id])
    # Closing the moved one leaves the customer's conversation with the handoff that held it.
    assert await store.finish(moved, "closed", "resolved")
    holding = await store.holding("cust:c1001")
    assert holding is not None and holding.ticket_id == first.ticket_id
    assert [h.ticket_id for h in await store.active()] == [first.ticket_id]


async def test_a_closed_handoff_is_left_alone(redis_client: aioredis.Redis, customers: Customers) -> None:
    handoff = await held(redis_client, CHAT, await said(redis_client, CHAT, "complaint", 200.0, "telegram"))
    store = HandoffStore(redis_client)
    assert await store.finish(handoff, "closed", "resolved")
    await customers.link("telegram", "7301", ZHANG)
    closed = await store.get(handoff.ticket_id)
    assert closed is not None and closed.conversation_id == CHAT and closed.status == "closed"
    assert await store.holding("cust:c1001") is None
    # Its old conversation id reads the merged history.
    assert [e["text"] for e in await ConversationStore(redis_client).transcript(CHAT)] == ["complaint"]


async def test_a_handoff_for_a_message_queued_before_the_link_holds_the_customers_conversation(
    redis_client: aioredis.Redis, customers: Customers
) -> None:
    """The pipeline answers a message queued under the old id after the link; it triggers a handoff."""
    message = InboundMessage(channel="telegram", sender="7301", conversation_id=CHAT, text="I want to complain",
                             received_at=100.0)
    assert await Inbox(redis_client, shards=2).submit(message)
    await customers.link("telegram", "7301", ZHANG)
    delivery, told = recording_delivery(redis_client)

    async with aiohttp.ClientSession() as http:  # Rasa is not running: pausing its tracker is only logged
        rasa = RasaClient(http, f"http://127.0.0.1:{free_port()}", "token", timeout_s=1)
        manager = HandoffManager(redis_client, rasa, DemoOrderBackend(redis_client), HandoffSettings(), delivery)
        await manager.open(message, Decision("handoff", "complaint", "high", "test"), {})

    holding = await HandoffStore(redis_client).holding("cust:c1001")
    assert holding is not None and (holding.conversation_id, holding.customer_id) == ("cust:c1001", "c1001")
    ticket = await TicketStore(redis_client).get(holding.ticket_id)
    assert ticket is not None and ticket.customer_id == "c1001"
    assert [reply.conversation_id for reply in told] == ["cust:c1001"]


async def test_telegram_chat_before_linking_joins_the_wechat_history_through_the_connectors(
    redis_url: str, redis_client: aioredis.Redis
) -> None:
    await seed_demo(redis_url)
    async with both_channels_gateway(redis_url, redis_client, passive_wait_s=0.05) as gateway:
        tg, wx = gateway.telegram, gateway.wechat
        _, body = await wx.deliver(fixture("text", openid="oZhangWei", msg_id="9401",
                                                content="绑定 DD20261104001 5678"))
        assert wx.reply_text(body) == t("channels.link_done", "zh")
        assert (await wx.deliver(fixture("text", openid="oZhangWei", msg_id="9402",
                                         content="我的订单到哪了")))[0] == 200
        assert await tg.post(update("message", update_id=71, text="hello, my parcel is late")) == 200
        assert (await wx.deliver(fixture("text", openid="oZhangWei", msg_id="9403",
                                         content="快递单号是多少")))[0] == 200
        assert await tg.post(update("message", update_id=72, text="/link DD20261104001 5678")) == 200
        assert [m["text"] for m in await tg.sent_count(1)] == [t("channels.link_done", "zh")]
        assert await tg.post(update("message", update_id=73, text="any news?")) == 200
        await asyncio.sleep(0.1)  # the Telegram link answer is stored in the background

        history = await ConversationStore(redis_client).transcript("cust:c1001")
        assert [(e["channel"], e["text"]) for e in history if e["role"] == "customer"] == [
            ("wechat", "绑定 link DD20261104001 ****"), ("wechat", "我的订单到哪了"),
            ("telegram", "hello, my parcel is late"), ("wechat", "快递单号是多少"),
            ("telegram", "/link DD20261104001 ****"), ("telegram", "any news?"),
        ]
        assert [e["ts"] for e in history] == sorted(e["ts"] for e in history)
        told = [e["text"] for e in history if e["role"] == "system"]
        assert told == [t("channels.link_done", "zh")] * 2
        assert await ConversationStore(redis_client).transcript(f"telegram:{EMMA}") == history
