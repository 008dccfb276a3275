"""Who may see which order, and reading phone digits."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actions.identity import Identity, phone_last4, phone_matches
from kefu.orders.base import Order

ORDER = Order(id="DD20261104005", customer_id="c1001", phone="13812345678", status="shipped",
              created_at=datetime(2026, 11, 1, tzinfo=UTC), address="x", total=1.0)


def test_metadata_is_read_defensively() -> None:
    assert Identity.from_metadata(None, "sender") == Identity(None, "web", "sender")
    who = Identity.from_metadata({"customer_id": "c1", "channel": "wechat", "conversation_id": "k"}, "s", ["DD1"])
    assert who.signed_in and who.channel == "wechat" and who.conversation_id == "k"
    assert who.verified_orders == frozenset({"DD1"})
    assert Identity.from_metadata({"channel": "carrier-pigeon"}, "s").channel == "web"


def test_signed_in_customers_see_only_their_orders() -> None:
    assert Identity("c1001", "web", "k").may_see(ORDER)
    assert not Identity("c1002", "web", "k", frozenset({ORDER.id})).may_see(ORDER)


def test_anonymous_visitors_see_only_verified_orders() -> None:
    assert not Identity(None, "web", "k").may_see(ORDER)
    assert Identity(None, "web", "k", frozenset({ORDER.id})).may_see(ORDER)


@pytest.mark.parametrize("raw,last4", [
    ("13812345678", "5678"), ("5678", "5678"), ("138-1234-5678", "5678"), ("123", None), ("123456", None),
    (None, None), ("", None)])
def test_phone_last4(raw: str | None, last4: str | None) -> None:
    assert phone_last4(raw) == last4


def test_phone_matches() -> None:
    assert phone_matches(ORDER, "5678") and not phone_matches(ORDER, "1234") and not phone_matches(ORDER, "")
