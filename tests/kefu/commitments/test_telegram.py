"""Telegram, through the real gateway and the fake Bot API: an update carries its opt-out as an inline button and
keeps Telegram's one message a second per chat; a survey tap comes back as a callback and is stored."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fakes.telegram import EMMA, update
from tests.kefu.commitments.rig import Rig, event, eventually, running_rig


@pytest.fixture
async def rig(redis_url: str) -> AsyncIterator[Rig]:
    async with running_rig(redis_url) as rig:
        await rig.telegram_update(update("message", update_id=1, chat_id=EMMA, text="/link DD20261104001 5678"))
        await eventually(lambda: _now(rig.telegram_api.texts_to(EMMA)))  # the link's confirmation
        yield rig


def buttons(message: dict) -> list[str]:
    return [button["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for button in row]


async def test_updates_carry_the_stop_button_and_keep_the_rate_limit(rig: Rig) -> None:
    before = len(rig.telegram_api.sent)
    for kind in ("shipped", "delivered"):
        status, answer = await rig.shop.post(event(kind))
        assert (status, answer["status"]) == (200, "sent")
    shipped, delivered = rig.telegram_api.sent[before:]
    assert "已发货" in shipped["text"] and "已签收" in delivered["text"]
    assert buttons(shipped) == buttons(delivered) == ["/stop_updates"]
    assert delivered["at"] - shipped["at"] >= 0.9  # about one message a second to one chat


async def test_a_survey_tap_on_telegram_is_stored(rig: Rig) -> None:
    assert await rig.services.commitments.surveys.ask("cust:c1001", "telegram", "zh", ticket_id="T-100960", by="bob")
    survey = await eventually(lambda: _now([m for m in rig.telegram_api.sent if "reply_markup" in m
                                            and buttons(m)[0] == "/csat_one"]))
    assert buttons(survey[0]) == ["/csat_one", "/csat_two", "/csat_three", "/csat_four", "/csat_five"]
    tap = update("callback_query", update_id=2, chat_id=EMMA)
    tap["callback_query"]["data"] = "/csat_two"
    await rig.telegram_update(tap)
    rating = await eventually(lambda: rig.services.commitments.ratings.for_ticket("T-100960"))
    assert (rating.score, rating.by, rating.channel) == (2, "bob", "telegram")
    await eventually(lambda: _now([text for text in rig.telegram_api.texts_to(EMMA) if "2/5" in text]))


async def _now(value):
    return value
