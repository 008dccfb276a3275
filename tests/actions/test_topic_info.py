"""Policy and out-of-scope answers (actions/topic_info.py): where we ship is policy, the rest gets an honest answer
and, when only a person could help, the offer of one whose "yes" button opens a handoff (request_human)."""
from __future__ import annotations

import pytest

from actions.topic_info import OFFER_PERSON, SCOPE_KEYWORDS, policy_topics, scope_subject
from kefu.core.i18n import t
from kefu.core.offers import offer
from tests.actions.conftest import Conversation

pytestmark = pytest.mark.usefixtures("services")


@pytest.mark.parametrize(("text", "subject"), [
    ("do you ship abroad?", "destinations"), ("能寄到国外吗", "destinations"),
    ("is delivery to a po box possible", "destinations"),
    ("what shipping methods can I choose", "delivery_options"), ("可以快递柜代收吗", "delivery_options"),
    ("how many business days until it arrives", "delivery_time"),
    ("is there a fee if I cancel", "cancellation"), ("取消订单会扣钱吗", "cancellation"),
    ("what are your refund conditions", "refunds"), ("退款规则是什么", "refunds"),
])
def test_policy_subject_of_question(text: str, subject: str) -> None:
    assert subject in policy_topics(text)


def test_refund_policy_is_answered_as_refunds_not_returns() -> None:
    assert policy_topics("what's the refund policy?") == ["refunds"]


@pytest.mark.parametrize(("text", "subject"), [
    ("the price dropped a day after I paid", "price_protection"), ("买完就降价了，能保价吗", "price_protection"),
    ("can I split the payment into instalments", "installments"), ("能用白条分期吗", "installments"),
    ("I forgot my password", "account"), ("怎么注销账号", "account"),
    ("unsubscribe me from the newsletter", "account"),
    ("where do I leave a review", "review"), ("怎么追评", "review"),
    ("I won't be home on Friday, can it come another day", "reschedule"), ("明天家里没人，能改期吗", "reschedule"),
    ("is the grey one in stock", "stock"), ("什么时候补货", "stock"),
    ("any coupon for first orders", "price"), ("满减怎么算", "price"),
    ("how do I place an order", "place_order"), ("帮我下个单", "place_order"),
    ("is this jacket true to size", "product"), ("这款是什么材质", "product"),
])
def test_scope_subject_of_question(text: str, subject: str) -> None:
    assert scope_subject(text) == subject


def test_every_scope_subject_has_an_answer_in_both_languages() -> None:
    for subject in SCOPE_KEYWORDS:
        for lang in ("zh", "en"):
            assert t(f"scope.{subject}", lang) != f"scope.{subject}"


@pytest.mark.parametrize(("text", "lang"), [("do you deliver to Germany?", "en"), ("能寄到海外吗", "zh")])
async def test_shipping_destination_is_a_policy_answer_even_when_read_as_out_of_scope(text: str, lang: str) -> None:
    for intent in ("policy", "out_of_scope"):
        turn = await Conversation().say(text, intent)
        assert t("policy.destinations", lang) in turn.text
        assert turn.buttons == [[]]


@pytest.mark.parametrize(("text", "subject", "lang"), [
    ("降价了能退差价吗", "price_protection", "zh"), ("is the black one back in stock", "stock", "en"),
    ("I can't sign in to my account", "account", "en"), ("这个适合油皮吗", "product", "zh"),
])
async def test_out_of_scope_offers_a_colleague_with_buttons(text: str, subject: str, lang: str) -> None:
    turn = await Conversation().say(text, "out_of_scope")
    question, buttons = offer("human", lang)
    assert turn.text == f"{t(f'scope.{subject}', lang)} {question}"
    assert turn.buttons == [[{"title": b.title, "payload": b.payload} for b in buttons]]
    # Only the "yes" button asks for a person (it sends request_human, which the handoff acts on); "no" does not.
    assert [b["payload"] for b in turn.buttons[0]] == ["/request_human", "/deny"]
    assert not any(event["name"] == "awaiting" and event["value"] for event in turn.events)
    assert not any(word in turn.text for word in ("转接", "transferring"))


@pytest.mark.parametrize(("text", "subject", "lang"), [
    ("可以分期付款吗", "installments", "zh"), ("how do I write a review", "review", "en"),
    ("i want to buy two of these", "place_order", "en"),
])
async def test_out_of_scope_with_an_honest_answer_offers_nobody(text: str, subject: str, lang: str) -> None:
    assert subject not in OFFER_PERSON
    turn = await Conversation().say(text, "out_of_scope")
    assert turn.text == t(f"scope.{subject}", lang) and turn.buttons == [[]]


async def test_unrelated_chat_gets_the_plain_out_of_scope_answer() -> None:
    turn = await Conversation().say("what's the weather like", "out_of_scope")
    assert turn.text == t("out_of_scope", "en") and turn.buttons == [[]]
