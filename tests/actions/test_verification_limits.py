"""Guessing phone digits for anonymous order access is limited per conversation, per order and per address.

Order ids are sequential and the proof is only 4 digits, so without these limits any order opens in at most
10,000 tries. Demo data: DD20261104005 has phone ...5678, DD20261104010 has ...1111.
"""
from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker

from actions import runtime
from actions.resolve import (
    VERIFY_LIMIT_PER_ADDRESS,
    VERIFY_LIMIT_PER_CONVERSATION,
    VERIFY_LIMIT_PER_ORDER,
    VERIFY_WINDOW_S,
)
from kefu.core import keys
from kefu.core.i18n import t
from tests.actions import conftest
from tests.actions.conftest import Conversation

pytestmark = pytest.mark.usefixtures("services")

ORDER_A, DIGITS_A, TRACKING_A = "DD20261104005", "5678", "SF1409917266"
ORDER_B, DIGITS_B, TRACKING_B = "DD20261104010", "1111", "SF1412200457"
LOCKED_ZH = t("order.verify_locked", "zh")


async def guess(convo: Conversation, order_id: str, digits: str) -> str:
    """One anonymous verification attempt: the order id, then the digits the bot asked for."""
    await convo.say(f"{order_id} 到哪了", "order_status")
    return (await convo.say(digits, "inform")).text


async def guess_wrong(convo: Conversation, order_id: str, times: int) -> list[str]:
    return [await guess(convo, order_id, f"{1000 + n}") for n in range(times)]


async def test_right_digits_refused_after_five_wrong_tries() -> None:
    convo = Conversation(conversation_id="guesser")
    replies = await guess_wrong(convo, ORDER_A, VERIFY_LIMIT_PER_CONVERSATION)
    assert all(TRACKING_A not in reply for reply in replies)
    assert replies[-1] == LOCKED_ZH  # told at once that the tries are used up
    right = await guess(convo, ORDER_A, DIGITS_A)
    assert right == LOCKED_ZH and TRACKING_A not in right
    assert not convo.slots.get("verified_orders")


async def test_lock_holds_for_other_orders_in_the_same_conversation() -> None:
    convo = Conversation(conversation_id="guesser")
    await guess_wrong(convo, ORDER_A, VERIFY_LIMIT_PER_CONVERSATION)
    assert await guess(convo, ORDER_B, DIGITS_B) == LOCKED_ZH


async def test_a_fresh_conversation_is_stopped_by_the_per_order_counter() -> None:
    for n in range(VERIFY_LIMIT_PER_ORDER):
        await guess_wrong(Conversation(conversation_id=f"spray-{n}"), ORDER_A, 1)
    newcomer = await guess(Conversation(conversation_id="newcomer"), ORDER_A, DIGITS_A)
    assert newcomer == LOCKED_ZH and TRACKING_A not in newcomer
    # Other orders stay open to other visitors: the lock is on the guessed order, not on everyone.
    assert TRACKING_B in await guess(Conversation(conversation_id="owner-b"), ORDER_B, DIGITS_B)


async def test_success_on_one_order_does_not_reset_another_orders_counter() -> None:
    convo = Conversation(conversation_id="mixed")
    await guess_wrong(convo, ORDER_B, VERIFY_LIMIT_PER_CONVERSATION - 1)
    assert TRACKING_A in await guess(convo, ORDER_A, DIGITS_A)
    assert await guess_wrong(convo, ORDER_B, 1) == [LOCKED_ZH]
    assert await guess(convo, ORDER_B, DIGITS_B) == LOCKED_ZH


async def test_verified_order_stays_visible_without_a_new_check() -> None:
    """The lock stops new proofs only: an order proven before the lock is still shown to its prover."""
    convo = Conversation(conversation_id="prover")
    assert TRACKING_A in await guess(convo, ORDER_A, DIGITS_A)
    await guess_wrong(convo, ORDER_B, VERIFY_LIMIT_PER_CONVERSATION)
    assert TRACKING_A in (await convo.say(f"{ORDER_A} 物流", "order_status")).text


@pytest.fixture
def client_address(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every tracker the conversation driver builds carries this client address in its metadata."""
    address = "203.0.113.7"

    def tracker(**kwargs: Any) -> Tracker:
        kwargs["latest_message"]["metadata"]["client_address"] = address
        return Tracker(**kwargs)

    monkeypatch.setattr(conftest, "Tracker", tracker)
    return address


async def test_per_address_counter_spans_conversations_and_orders(client_address: str) -> None:
    per_conversation = VERIFY_LIMIT_PER_CONVERSATION - 1
    for n in range(VERIFY_LIMIT_PER_ADDRESS // per_conversation + 1):
        await guess_wrong(Conversation(conversation_id=f"hop-{n}"), f"DD2026110{4100 + n}", per_conversation)
    assert await guess(Conversation(conversation_id="hop-last"), ORDER_B, DIGITS_B) == LOCKED_ZH


async def test_no_address_in_metadata_skips_that_counter(services: runtime.Services) -> None:
    await guess_wrong(Conversation(conversation_id="plain"), ORDER_A, 1)
    found = sorted([key async for key in services.redis.scan_iter(match=keys.verify_failures("*", "*"))])
    assert found == [keys.verify_failures("conversation", "plain"), keys.verify_failures("order", ORDER_A)]


async def test_counters_expire_after_the_window(services: runtime.Services) -> None:
    await guess_wrong(Conversation(conversation_id="expiring"), ORDER_A, 1)
    ttl = await services.redis.ttl(keys.verify_failures("order", ORDER_A))
    assert 0 < ttl <= VERIFY_WINDOW_S


# --- typed intent payloads (kefu/channels/intake.py) ---------------------------------------------------------
