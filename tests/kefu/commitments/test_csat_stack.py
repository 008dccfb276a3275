"""The survey with the real stack (trained model, Rasa, action server): asked when the bot resolved a question and
the customer says thanks, and when an agent closes the ticket in the console; a tap is stored; never twice in a row."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.core.ratings import RatingStore
from tests.helpers.console import add_user, signed_in
from tests.helpers.gateway import ChatClient, chat, running_gateway
from tests.helpers.settings import ALWAYS_OPEN

pytestmark = pytest.mark.stack
TICKET = re.compile(r"T-\d{6}")


@pytest.fixture
async def open_gateway(stack_settings: Settings) -> AsyncIterator[Settings]:
    settings = dataclasses.replace(stack_settings, handoff=ALWAYS_OPEN)
    async with running_gateway(settings):
        yield settings


def is_survey(frame: dict) -> bool:
    return bool(frame.get("buttons")) and frame["buttons"][0]["payload"] == "/csat_one"


async def frames_until(customer: ChatClient, done) -> list[dict]:
    """Message frames up to and including the first for which ``done`` is true."""
    seen = []
    while not seen or not done(seen[-1]):
        seen += await customer.replies(1, timeout=60)
    return seen


async def test_asked_after_thanks_when_the_bot_resolved_it_and_not_again(
    open_gateway: Settings, redis_client: aioredis.Redis
) -> None:
    settings = open_gateway
    async with chat(settings.public_origin, customer_id="c1002", secret=settings.identity_secret) as customer:
        assert "DD20261104010" in await customer.ask("hey where is my parcel??")
        await customer.send("thank you!")
        frames = await frames_until(customer, is_survey)
        assert frames[0]["role"] == "bot"  # the bot's own answer first, then the question
        assert frames[-1]["text"].startswith("How satisfied are you")
        await customer.send("4", payload="/csat_four")
        assert any("4/5" in f["text"] for f in await frames_until(customer, lambda f: "4/5" in f["text"]))
        ratings = await RatingStore(redis_client).for_conversation("cust:c1002")
        assert [(r.score, r.by, r.ticket_id, r.channel) for r in ratings] == [(4, "bot", "", "web")]

        await customer.send("thanks again, bye")  # a comment, not a new survey
        await frames_until(customer, lambda f: "passed your comment on" in f["text"])
        await customer.send("thank you!")
        frames = await frames_until(customer, lambda f: f["role"] == "bot")
        assert not any(is_survey(f) for f in frames)
        # Whatever came after the thanks, up to the next answer, holds no survey either.
        await customer.send("where is my parcel")
        frames = await frames_until(customer, lambda f: "DD20261104010" in f["text"])
        assert not any(is_survey(f) for f in frames)
    ratings = await RatingStore(redis_client).for_conversation("cust:c1002")
    assert [(r.score, r.comment) for r in ratings] == [(4, "thanks again, bye")]


async def test_asked_after_an_agent_closes_the_ticket_in_the_console(
    open_gateway: Settings, redis_client: aioredis.Redis
) -> None:
    settings, base = open_gateway, open_gateway.public_origin
    password = await add_user(settings.redis_url, "ann")
    async with signed_in(base, "ann", password) as agent, chat(
        base, customer_id="c1002", secret=settings.identity_secret
    ) as customer:
        await customer.send("I want to file a formal complaint, your staff never answered my emails")
        taken = await frames_until(customer, lambda f: TICKET.search(f["text"]) is not None)
        ticket = TICKET.search(taken[-1]["text"])[0]
        status, body = await agent.act(ticket, "claim")
        assert status == 200, body
        status, _ = await agent.act(ticket, "close", resolution="resolved")
        assert status == 200
        frames = await frames_until(customer, is_survey)
        assert any(ticket in f["text"] and "closed" in f["text"] for f in frames)
        await customer.send("3", payload="/csat_three")
        await frames_until(customer, lambda f: "3/5" in f["text"])
    rating = await RatingStore(redis_client).for_ticket(ticket)
    assert rating is not None and (rating.score, rating.by, rating.channel) == (3, "ann", "web")
