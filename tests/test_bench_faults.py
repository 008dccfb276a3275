"""The fault bench's order-action judge and its shopper script, without a stack (the bench itself runs it)."""
from __future__ import annotations

from bench.faults import CANCEL, Shopper, count_order_actions

A, B, C = "DD90000000001", "DD90000000002", "DD90000000003"


def done(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"operation": kind, "order_id": order_id, "key": f"k{n}"} for n, (order_id, kind) in enumerate(pairs)]


def test_one_execution_per_confirmed_order_is_no_duplicate() -> None:
    counts = count_order_actions([(A, "cancel"), (B, "cancel")], done((A, "cancel"), (B, "cancel")), {A, B})
    assert counts == {"orders_asked": 2, "orders_done": 2, "order_duplicates": 0}


def test_a_second_execution_is_a_duplicate_and_a_missing_one_is_not_done() -> None:
    counts = count_order_actions([(A, "cancel"), (B, "cancel")], done((A, "cancel"), (A, "cancel")), {A, B})
    assert counts == {"orders_asked": 2, "orders_done": 1, "order_duplicates": 1}


def test_an_execution_nobody_confirmed_counts_and_other_orders_do_not() -> None:
    record = done((A, "cancel"), (A, "refund"), (C, "cancel"), ("DD20261104002", "cancel"))
    counts = count_order_actions([(A, "cancel")], record, {A, C})
    assert counts == {"orders_asked": 1, "orders_done": 1, "order_duplicates": 2}


def test_a_customer_confirming_twice_is_one_ask() -> None:
    assert count_order_actions([(A, "cancel"), (A.lower(), "cancel")], done((A, "cancel")), {A})["orders_asked"] == 1


def test_the_shopper_asks_waits_for_the_question_then_confirms() -> None:
    shopper = Shopper(hello={"customer_id": "bench-1"}, order_id=A, lang="en", at=1)
    ask, yes = CANCEL["en"]
    assert shopper.next_message(0) == {}  # a routine question first
    assert shopper.next_message(1) == {"text": ask.format(order_id=A)}
    shopper.sent("m1")
    shopper.seen({"role": "bot", "id": "cust:bench-1:m0.0"})  # the answer to an earlier question
    shopper.seen({"role": "system", "id": "cust:bench-1:m1.0"})  # "received, will be answered" is no question
    shopper.seen({"role": "bot", "id": "cust:bench-2:m1.0"})  # another conversation's
    shopper.seen({"role": "bot", "id": "cust:bench-1:m1.0", "text": "invoice title?"})  # still another flow
    assert shopper.next_message(2) is None  # waits for the bot's question
    yes_button = [{"title": "Yes", "payload": '/affirm{"question":"q1"}'}]
    shopper.seen({"role": "bot", "id": "cust:bench-1:m1.1", "text": f"cancel {A}?", "buttons": yes_button})
    assert shopper.next_message(2) == {"text": yes}
    shopper.sent("m2")
    assert shopper.confirm == "m2" and shopper.next_message(3) == {}


def test_a_tapping_shopper_sends_the_questions_yes_button() -> None:
    shopper = Shopper(hello={"customer_id": "bench-1"}, order_id=A, lang="zh", at=0, tap=True)
    shopper.sent("m1")
    buttons = [{"title": "确认", "payload": '/affirm{"question":"q1"}'}, {"title": "不用了", "payload": "/deny"}]
    shopper.seen({"role": "bot", "id": "cust:bench-1:m1.1", "text": f"取消 {A}？", "buttons": buttons})
    assert shopper.next_message(1) == {"text": "确认", "payload": '/affirm{"question":"q1"}'}
