"""The after-sales rules: every branch, and the 72-hour and 7-day boundaries."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kefu.orders import aftersales
from kefu.orders.base import Order, TrackingEvent

NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)


def order(status: str, **fields: object) -> Order:
    return Order(id="DD20261104999", customer_id="c1", phone="13800000000", status=status,  # type: ignore[arg-type]
                 created_at=NOW - timedelta(days=10), address="somewhere", total=100.0, **fields)  # type: ignore[arg-type]


def shipped(hours_since_event: float, *, events: bool = True) -> Order:
    last = NOW - timedelta(hours=hours_since_event)
    tracking = (TrackingEvent(last - timedelta(hours=5), "A", "揽收", "picked up"),
                TrackingEvent(last, "B", "到达", "arrived")) if events else ()
    return order("shipped", shipped_at=last - timedelta(hours=5) if events else last, tracking=tracking)


@pytest.mark.parametrize("status,allowed", [
    ("unpaid", True), ("paid", True), ("shipped", False), ("delivered", False), ("cancelled", False),
    ("refunded", False),
])
def test_cancel_and_address_change_only_before_shipping(status: str, allowed: bool) -> None:
    assert aftersales.can_cancel(order(status)).allowed is allowed
    assert aftersales.can_change_address(order(status)).allowed is allowed
    if not allowed:
        assert aftersales.can_cancel(order(status)).reason == status


def test_refund_not_shipped_is_immediate() -> None:
    decision = aftersales.refund_decision(order("paid"), NOW)
    assert decision.outcome == "refund_now" and decision.refunds


def test_refund_unpaid_has_nothing_to_refund() -> None:
    decision = aftersales.refund_decision(order("unpaid"), NOW)
    assert decision.outcome == "not_paid" and not decision.refunds


def test_refund_with_live_tracking_goes_to_review_with_a_reply_time() -> None:
    decision = aftersales.refund_decision(shipped(10), NOW)
    assert decision.outcome == "review" and not decision.refunds
    assert decision.reply_by == NOW + timedelta(hours=24)


@pytest.mark.parametrize("hours,outcome", [(71.99, "review"), (72, "auto_refund"), (72.01, "auto_refund")])
def test_refund_boundary_at_72_hours_without_tracking_event(hours: float, outcome: str) -> None:
    assert aftersales.refund_decision(shipped(hours), NOW).outcome == outcome


def test_shipped_without_any_event_counts_from_shipping_time() -> None:
    assert aftersales.refund_decision(shipped(80, events=False), NOW).outcome == "auto_refund"
    assert aftersales.refund_decision(shipped(20, events=False), NOW).outcome == "review"


@pytest.mark.parametrize("status,outcome", [
    ("delivered", "delivered"), ("cancelled", "already_closed"), ("refunded", "already_closed")])
def test_refund_for_closed_orders(status: str, outcome: str) -> None:
    assert aftersales.refund_decision(order(status), NOW).outcome == outcome


@pytest.mark.parametrize("age,allowed", [
    (timedelta(days=1), True), (timedelta(days=7), True), (timedelta(days=7, seconds=1), False),
    (timedelta(days=30), False)])
def test_return_window_is_seven_days_from_delivery(age: timedelta, allowed: bool) -> None:
    delivered_at = NOW - age
    decision = aftersales.return_decision(order("delivered", delivered_at=delivered_at), NOW)
    assert decision.allowed is allowed
    assert decision.deadline == delivered_at + timedelta(days=7)
    if not allowed:
        assert decision.reason == "window_closed"


@pytest.mark.parametrize("status,reason", [
    ("unpaid", "not_shipped"), ("paid", "not_shipped"), ("shipped", "not_delivered"),
    ("cancelled", "cancelled"), ("refunded", "refunded")])
def test_return_refused_before_delivery_or_after_closing(status: str, reason: str) -> None:
    decision = aftersales.return_decision(order(status), NOW)
    assert not decision.allowed and decision.reason == reason


def test_lateness() -> None:
    on_time = order("shipped", promised_by=NOW + timedelta(hours=1))
    assert aftersales.lateness(on_time, NOW) is None
    late = aftersales.lateness(replace(on_time, promised_by=NOW - timedelta(hours=5)), NOW)
    assert late is not None and late.late_by == timedelta(hours=5) and not late.delivered
    arrived_late = order("delivered", promised_by=NOW - timedelta(days=3), delivered_at=NOW - timedelta(days=2))
    result = aftersales.lateness(arrived_late, NOW)
    assert result is not None and result.delivered and result.late_by == timedelta(days=1)
    arrived_on_time = replace(arrived_late, delivered_at=NOW - timedelta(days=4))
    assert aftersales.lateness(arrived_on_time, NOW) is None
    assert aftersales.lateness(order("shipped"), NOW) is None
    assert aftersales.lateness(order("cancelled", promised_by=NOW - timedelta(days=1)), NOW) is None
