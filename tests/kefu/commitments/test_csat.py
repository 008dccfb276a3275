"""The satisfaction survey on a real gateway and Redis (no Rasa: the survey's answers never reach it): asked after
an agent closes a ticket, answered by a number on WeChat or a tap on web chat, an optional comment, never asked
twice in a row; a new request is not taken for a comment."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kefu.core.messages import InboundMessage
from kefu.core.ratings import Rating
from kefu.handoff.decision import Decision
from tests.helpers.gateway import ChatClient, chat
from tests.kefu.commitments.rig import IDENTITY_SECRET, Rig, event, eventually, running_rig

OPENID = "oRatingCustomer"
ASKED = "1（非常不满意）到 5（非常满意）"


@pytest.fixture
async def rig(redis_url: str) -> AsyncIterator[Rig]:
    async with running_rig(redis_url) as rig:
        yield rig


async def closed_ticket(rig: Rig, channel: str, conversation_id: str, agent: str = "ann") -> str:
    """A ticket opened by the handoff manager, claimed and closed by ``agent``: the on_finished hook runs."""
    manager = rig.services.handoff
    message = InboundMessage(channel=channel, sender=conversation_id, conversation_id=conversation_id,
                             text="我要投诉，快递员态度太差了", customer_id="c1001")
    await manager.open(message, Decision(route="handoff", reason="complaint", priority="high", source="lexicon"), {})
    ticket = (await manager.active_handoffs())[0].ticket_id
    await manager.claim(ticket, agent, agent.title())
    await manager.close(ticket, agent, "resolved")
    return ticket


async def test_a_wechat_customer_rates_with_a_number_and_comments(rig: Rig) -> None:
    assert "绑定成功" in (await rig.wechat_says(OPENID, "绑定 DD20261104001 5678") or "")
    ticket = await closed_ticket(rig, "wechat", "cust:c1001")
    texts = await eventually(lambda: _now([t for t in rig.wechat_api.texts_to(OPENID) if ASKED in t]))
    assert "(1 / 2 / 3 / 4 / 5)" in texts[0]  # no buttons on WeChat: the choices as text

    assert "4/5" in (await rig.wechat_says(OPENID, "4") or "")
    rating = await rig.services.commitments.ratings.for_ticket(ticket)
    assert rating is not None
    assert (rating.score, rating.by, rating.channel, rating.ticket_id, rating.comment) == (4, "ann", "wechat", ticket, "")
    assert "已转达" in (await rig.wechat_says(OPENID, "处理得很快，谢谢") or "")
    assert (await rig.services.commitments.ratings.for_ticket(ticket)).comment == "处理得很快，谢谢"
    assert await rig.services.commitments.ratings.for_conversation("cust:c1001") == [
        Rating("cust:c1001", ticket, 4, "处理得很快，谢谢", "ann", "wechat", rating.at)]


async def _first_survey(customer: ChatClient) -> dict | None:
    for frame in await customer.replies(1, timeout=15):
        if frame.get("buttons") and frame["buttons"][0]["payload"] == "/csat_one":
            return frame
    return None


async def test_a_web_chat_tap_is_stored_and_the_next_close_does_not_ask_again(rig: Rig) -> None:
    ratings = rig.services.commitments.ratings
    async with chat(rig.base_url, customer_id="c1001", secret=IDENTITY_SECRET) as customer:
        ticket = await closed_ticket(rig, "web", "cust:c1001")
        survey = await _first_survey_within(customer)
        assert [button["title"] for button in survey["buttons"]] == ["1", "2", "3", "4", "5"]
        assert (await customer.send("5", payload="/csat_five"))["type"] == "ack"
        thanks = await _text_with(customer, "5/5")
        assert thanks["buttons"] == [{"title": "不用了", "payload": "/csat_skip"}]
        rating = await eventually(lambda: ratings.for_ticket(ticket))
        assert (rating.score, rating.by, rating.channel) == (5, "ann", "web")
        await customer.send("不用了", payload="/csat_skip")
        await _text_with(customer, "谢谢您")

        # Another ticket closed right after: no second survey in a row. The next thing after its close notice is
        # the order update the shop sends next, not a survey.
        second = await closed_ticket(rig, "web", "cust:c1001", agent="bob")
        await _text_with(customer, f"{second} 已处理完毕")
        assert (await rig.shop.post(event("delivered")))[0] == 200
        after = (await customer.replies(1, timeout=15))[0]
        assert "已签收" in after["text"], after
        assert await rig.services.commitments.surveys.ask("cust:c1001", "web", "zh") is False
    assert await ratings.for_ticket(second) is None
    assert [r.score for r in await ratings.for_conversation("cust:c1001")] == [5]


async def test_an_order_question_after_the_tap_is_not_taken_for_a_comment(rig: Rig) -> None:
    surveys = rig.services.commitments.surveys
    async with chat(rig.base_url, customer_id="c1001", secret=IDENTITY_SECRET) as customer:
        assert await surveys.ask("cust:c1001", "web", "zh") is True
        await _first_survey_within(customer)
        await customer.send("2")  # typed, as on WeChat
        await _text_with(customer, "2/5")
        message = InboundMessage(channel="web", sender="cust:c1001", conversation_id="cust:c1001",
                                 text="DD20261104003 到哪了", customer_id="c1001")
        assert await surveys.intercept(message) is False  # the bot answers it
    rating = (await rig.services.commitments.ratings.for_conversation("cust:c1001"))[0]
    assert (rating.score, rating.comment, rating.by, rating.ticket_id) == (2, "", "bot", "")


async def test_without_a_survey_a_digit_is_the_bots_and_an_old_button_is_answered(rig: Rig) -> None:
    surveys = rig.services.commitments.surveys
    digit = InboundMessage(channel="web", sender="cust:c1003", conversation_id="cust:c1003", text="3")
    assert await surveys.intercept(digit) is False
    old_tap = InboundMessage(channel="web", sender="cust:c1003", conversation_id="cust:c1003", text="3",
                             metadata={"payload": "/csat_three"})
    async with chat(rig.base_url, customer_id="c1003", secret=IDENTITY_SECRET) as customer:
        assert await surveys.intercept(old_tap) is True
        assert "评价已经结束" in (await customer.replies(1, timeout=15))[0]["text"]
    assert await rig.services.commitments.ratings.for_conversation("cust:c1003") == []


async def _first_survey_within(customer: ChatClient) -> dict:
    while True:
        survey = await _first_survey(customer)
        if survey is not None:
            return survey


async def _text_with(customer: ChatClient, needle: str) -> dict:
    while True:
        for frame in await customer.replies(1, timeout=15):
            if needle in frame["text"]:
                return frame


async def _now(value):
    return value
