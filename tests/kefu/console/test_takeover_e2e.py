"""End to end: a web-chat customer is handed to a person and back, through the real stack and the console."""
from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.core.conversations import ConversationStore
from tests.helpers.console import Agent, add_user, signed_in
from tests.helpers.gateway import ChatClient, chat, running_gateway
from tests.helpers.settings import ALWAYS_OPEN

pytestmark = pytest.mark.stack
TICKET = re.compile(r"T-\d{6}")


@pytest.fixture
async def open_gateway(stack_settings: Settings) -> AsyncIterator[Settings]:
    """A gateway whose agents are always at work (the tests must not depend on the clock), in demo mode: the
    browser test chats from the demo shop page."""
    settings = dataclasses.replace(stack_settings, handoff=ALWAYS_OPEN, demo=True)
    async with running_gateway(settings):
        yield settings


async def silence(customer: ChatClient, seconds: float = 3.0) -> list[dict]:
    """Every message frame that arrives within `seconds`."""
    frames = []
    try:
        while True:
            frames.append(await customer.next_frame(timeout=seconds))
    except TimeoutError:
        pass
    customer.frames = [f for f in customer.frames if f["type"] != "message"]
    return [f for f in frames if f["type"] == "message"]


async def takeover_text(customer: ChatClient, text: str) -> str:
    ack = await customer.send(text)
    assert ack["type"] == "ack"
    frames = await customer.replies(1) + await silence(customer, 2.5)
    assert all(frame["role"] == "system" for frame in frames), frames
    return "\n".join(frame["text"] for frame in frames)


async def test_complaint_to_agent_and_back(open_gateway: Settings) -> None:
    settings, base = open_gateway, open_gateway.public_origin
    password = await add_user(settings.redis_url, "ann")
    async with signed_in(base, "ann", password) as agent, chat(
        base, customer_id="c1002", secret=settings.identity_secret
    ) as customer:
        await agent.connect()
        assert "DD20261104010" in await customer.ask("hey where is my parcel??")
        told = await takeover_text(customer, "I want to file a formal complaint, your courier threw my parcel "
                                             "over the fence and it's damaged")
        ticket = TICKET.search(told)[0]
        assert "queue" in told and "colleagues are online" in told  # an honest wait, in English
        queued = await agent.wait_for(lambda e: e["type"] == "queued")
        assert queued["item"]["ticket_id"] == ticket
        assert (queued["item"]["reason"], queued["item"]["priority"]) == ("complaint", "high")

        status, packet = await agent.get(f"/console/api/tickets/{ticket}")
        assert status == 200
        customer_turns = [e for e in packet["transcript"] if e["role"] == "customer"]
        assert next(e["understanding"]["intent"] for e in customer_turns) == "order_status"
        assert packet["ticket"]["trigger"]["text"].startswith("I want to file a formal complaint")
        assert "DD20261104010" in [o["id"] for o in packet["orders"]]
        assert packet["customer"] == {"customer_id": "c1002", "conversation_id": "cust:c1002", "channel": "web",
                                      "lang": "en"}
        assert packet["slots"].get("lang") == "en"

        # Waiting for a person: the bot stays quiet, the agent sees the message.
        await customer.send("hello? is anyone there")
        assert not [f for f in await silence(customer) if f["role"] == "bot"]
        seen = await agent.wait_for(lambda e: e["type"] == "message" and e["entry"]["role"] == "customer")
        assert seen["entry"]["text"] == "hello? is anyone there"

        assert (await agent.act(ticket, "claim"))[0] == 200
        assert "joined" in (await customer.replies(1))[0]["text"]
        assert (await agent.act(ticket, "reply", text="Hi Emma, I'm Ann. I'm so sorry, I'll sort this out."))[0] == 200
        reply = (await customer.replies(1))[0]
        assert (reply["role"], reply["text"]) == ("agent", "Hi Emma, I'm Ann. I'm so sorry, I'll sort this out.")

        # While the human holds it, Rasa is never asked: no reply, and no understanding stored for the turn.
        await customer.send("where is my parcel??")
        assert await silence(customer) == []
        await agent.wait_for(lambda e: e["type"] == "message" and e["entry"]["text"] == "where is my parcel??")
        assert (await agent.act(ticket, "note", text="courier: ZTO depot Pudong, ask for photo"))[0] == 200
        redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
        try:
            transcript = await ConversationStore(redis).transcript("cust:c1002")
        finally:
            await redis.aclose()
        held_turn = [e for e in transcript if e["role"] == "customer"][-1]
        assert held_turn["text"] == "where is my parcel??" and "understanding" not in held_turn

        assert (await agent.act(ticket, "handback"))[0] == 200
        assert "handed you back" in (await customer.replies(1))[0]["text"]
        assert "DD20261104010" in await customer.ask("where is order DD20261104010 now?")
        status_reply = await customer.ask(f"what's happening with ticket {ticket}?")
        assert ticket in status_reply and "closed" in status_reply

        # A finished ticket's packet is a supervisor's to read (issue 9 #7), with the notes kept.
        assert (await agent.get(f"/console/api/tickets/{ticket}"))[0] == 404
    sue = await add_user(settings.redis_url, "sue", "supervisor")
    async with signed_in(base, "sue", sue) as supervisor:
        _, packet = await supervisor.get(f"/console/api/tickets/{ticket}")
        assert [n["text"] for n in packet["notes"]] == ["courier: ZTO depot Pudong, ask for photo"]


async def test_two_agents_claim_at_once_and_safety_is_urgent(open_gateway: Settings) -> None:
    settings, base = open_gateway, open_gateway.public_origin
    # Safety reports are the safety team's only (issue 9 #7): two of its members race for one.
    ann = await add_user(settings.redis_url, "ann", team="safety")
    bob = await add_user(settings.redis_url, "bob", team="safety")
    async with signed_in(base, "ann", ann) as first, signed_in(base, "bob", bob) as second, chat(
        base, customer_id="c1001", secret=settings.identity_secret
    ) as customer:
        await first.connect()
        told = await takeover_text(customer, "充电器插上以后冒烟了还有火花，吓死我了")
        assert "120" in told and "110" in told and "停止使用" in told
        ticket = TICKET.search(told)[0]
        queued = await first.wait_for(lambda e: e["type"] == "queued")
        assert (queued["item"]["reason"], queued["item"]["priority"]) == ("safety", "urgent")
        assert queued["item"]["team"] == "safety"

        results = await asyncio.gather(first.act(ticket, "claim"), second.act(ticket, "claim"))
        assert sorted(status for status, _ in results) == [200, 409]
        winner: Agent = first if results[0][0] == 200 else second
        loser = second if winner is first else first
        assert (await loser.act(ticket, "reply", text="me too"))[0] == 409
        assert (await winner.act(ticket, "close", resolution="replaced"))[0] == 200
        closing = [f["text"] for f in await customer.replies(2)]
        assert any(ticket in text and "已安排换货" in text for text in closing), closing
        assert "订单" in await customer.ask("我的订单DD20261104005到哪了")
