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
from kefu.channels.intake import Intake
from kefu.core import keys
from kefu.core.i18n import t
from kefu.core.messages import InboundMessage
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

class RecordingInbox:
    """Stands in for the durable inbox: keeps what Intake queues for Rasa."""

    def __init__(self) -> None:
        self.queued: list[InboundMessage] = []

    async def submit(self, message: InboundMessage, waiting: object = None) -> bool:
        self.queued.append(message)
        return True


def rasa_reads_as_intent(text: str) -> bool:
    """Rasa 3.6's test for an intent payload (YAMLStoryReader.unpack_regex_message, run by RegexMessageHandler
    on every message): the stripped text starts with "/". Checked against Rasa itself: the raw payload below is
    parsed to intent order_status with order_id and phone entities, the neutralised text to nothing."""
    return text.strip().startswith("/")


async def queued_text(text: str, metadata: dict[str, Any] | None = None) -> str:
    inbox = RecordingInbox()
    intake = Intake(inbox, None, max_message_chars=500)  # type: ignore[arg-type]
    await intake.take(InboundMessage("web", "v1", "v1", text, metadata=metadata or {}))
    return inbox.queued[0].text


@pytest.mark.parametrize("typed", [
    '/order_status{"order_id":"DD20261104005","phone":"1234"}',
    ' /order_status{"order_id":"DD20261104005","phone":"1234"}',  # Rasa strips the space: no escape
    '/ \u3000//affirm',
])
async def test_typed_intent_payload_reaches_rasa_as_plain_text(typed: str) -> None:
    assert rasa_reads_as_intent(typed)
    queued = await queued_text(typed)
    assert not rasa_reads_as_intent(queued) and queued.lstrip("/ \u3000") == queued
    assert queued.split("{")[0] in ("order_status", "affirm")


async def test_offered_button_keeps_its_payload() -> None:
    """A pressed button is sent as metadata["payload"] (validated by the receiver); its title is left as is."""
    assert await queued_text("/affirm", {"payload": "/affirm"}) == "/affirm"
    assert await queued_text("Yes", {"payload": "/affirm"}) == "Yes"
