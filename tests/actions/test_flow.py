"""The shared flow (actions/flow.py): while a question is open, a message the model read as nonsense, out of
scope or small talk is first tried as its answer (issue 10, item 5: never "misunderstood")."""
from __future__ import annotations

import pytest

from actions import runtime
from kefu.core.i18n import t
from tests.actions.conftest import Conversation

pytestmark = pytest.mark.usefixtures("services")


@pytest.mark.parametrize("intent", ["nlu_fallback", "out_of_scope", "greet"])
async def test_an_order_id_read_as_no_request_answers_which_order(intent: str) -> None:
    convo = Conversation()
    await convo.say("我想查一下订单", "order_status")
    asked = await convo.say("就是这个 DD20261104005", intent)
    assert asked.texts == [t("ask.phone_last4", "zh", id="DD20261104005")]
    shown = await convo.say("5678", intent)
    assert "DD20261104005" in shown.text and "顺丰速运" in shown.text


async def test_an_order_id_with_another_request_starts_that_request() -> None:
    convo = Conversation(customer_id="c1001")
    await convo.say("where is my order", "order_status")
    turn = await convo.say("actually refund DD20261104002", "refund")
    assert "refund" in turn.text.lower() and convo.slots["awaiting"] is None


@pytest.mark.parametrize(("word", "intent"), [("可以", "nlu_fallback"), ("没问题", "out_of_scope"),
                                              ("行", "greet")])
async def test_a_yes_the_model_missed_still_confirms(services: runtime.Services, word: str, intent: str) -> None:
    convo = Conversation(customer_id="c1001")
    await convo.say("取消订单 DD20261104002", "cancel_order")
    done = await convo.say(word, intent)
    assert "订单 DD20261104002 已取消" in done.text
    assert (await services.backend.get_order("DD20261104002")).status == "cancelled"


async def test_a_no_the_model_missed_keeps_the_order(services: runtime.Services) -> None:
    convo = Conversation(customer_id="c1002")
    await convo.say("cancel DD20261104010 please", "cancel_order")  # shipped: refused, nothing open
    convo = Conversation(customer_id="c1001")
    await convo.say("cancel DD20261104001", "cancel_order")
    kept = await convo.say("nah", "nlu_fallback")
    assert kept.texts == [t("deny.dropped", "en")]
    assert (await services.backend.get_order("DD20261104001")).status == "unpaid"


async def test_an_unclear_answer_asks_the_open_question_again(services: runtime.Services) -> None:
    convo = Conversation(customer_id="c1001")
    ask = await convo.say("cancel DD20261104001", "cancel_order")
    unclear = await convo.say("hmm what about the blue one", "nlu_fallback")
    assert unclear.texts == [t("context.unclear_pending", "en", question=ask.texts[-1])]
    assert unclear.buttons == [ask.buttons[-1]] and convo.slots["awaiting"]["order_id"] == "DD20261104001"
    assert (await services.backend.get_order("DD20261104001")).status == "unpaid"


async def test_a_bare_ticket_id_the_model_could_not_place_is_looked_up() -> None:
    turn = await Conversation(customer_id="c1001").say("T-100871", "nlu_fallback")
    assert "T-100871" in turn.text and turn.text != t("fallback.rephrase", "zh")
