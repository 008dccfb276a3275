"""The shop's after-sales rules (FIELD-NOTES, "automatic after-sales rules") as pure functions of an order and now."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from kefu.orders.base import Order

# No carrier scan for this long after shipping counts as a lost parcel: the refund is automatic.
STALE_TRACKING = timedelta(hours=72)
# Seven-day no-reason returns, counted from delivery.
RETURN_WINDOW = timedelta(days=7)
# When a refund goes to an agent's review, the customer hears back within this time.
REVIEW_REPLY_WITHIN = timedelta(hours=24)

RefundOutcome = Literal["refund_now", "auto_refund", "review", "not_paid", "delivered", "already_closed"]


@dataclass(frozen=True)
class Decision:
    """Whether something is allowed; `reason` is a short code the actions turn into a sentence."""

    allowed: bool
    reason: str = ""


@dataclass(frozen=True)
class RefundDecision:
    outcome: RefundOutcome
    reply_by: datetime | None = None

    @property
    def refunds(self) -> bool:
        """Whether the rules refund without a person looking at it."""
        return self.outcome in ("refund_now", "auto_refund")


@dataclass(frozen=True)
class ReturnDecision:
    allowed: bool
    reason: str = ""
    deadline: datetime | None = None


@dataclass(frozen=True)
class Lateness:
    """A parcel past its promised date; the customer earns a compensation coupon without asking."""

    promised_by: datetime
    late_by: timedelta
    delivered: bool


def _not_shipped(order: Order) -> Decision:
    if order.status in ("unpaid", "paid"):
        return Decision(True)
    return Decision(False, order.status)


def can_cancel(order: Order) -> Decision:
    """Only an order that has not left the warehouse can be cancelled; reason is the blocking status."""
    return _not_shipped(order)


def can_change_address(order: Order) -> Decision:
    """The address can change until the parcel is handed to the carrier."""
    return _not_shipped(order)


def last_tracking_time(order: Order) -> datetime | None:
    """The latest carrier event, or the shipping time when the carrier has reported nothing yet."""
    times = [event.time for event in order.tracking]
    if order.shipped_at:
        times.append(order.shipped_at)
    return max(times) if times else None


def tracking_stale(order: Order, now: datetime) -> bool:
    """Shipped, not delivered, and no carrier event for STALE_TRACKING (72 h exactly counts as stale)."""
    if order.status != "shipped":
        return False
    last = last_tracking_time(order)
    return last is not None and now - last >= STALE_TRACKING


def refund_decision(order: Order, now: datetime) -> RefundDecision:
    """Not shipped -> refund now; shipped with tracking silent for 72 h -> automatic refund;
    tracking alive -> an agent reviews and the customer hears back within REVIEW_REPLY_WITHIN."""
    if order.status == "unpaid":
        return RefundDecision("not_paid")
    if order.status == "paid":
        return RefundDecision("refund_now")
    if order.status == "shipped":
        if tracking_stale(order, now):
            return RefundDecision("auto_refund")
        return RefundDecision("review", reply_by=now + REVIEW_REPLY_WITHIN)
    if order.status == "delivered":
        return RefundDecision("delivered")
    return RefundDecision("already_closed")


def return_decision(order: Order, now: datetime) -> ReturnDecision:
    """Returns and exchanges within RETURN_WINDOW of delivery (the 7th day still counts); else refused with why."""
    if order.status in ("unpaid", "paid"):
        return ReturnDecision(False, "not_shipped")
    if order.status == "shipped":
        return ReturnDecision(False, "not_delivered")
    if order.status in ("cancelled", "refunded"):
        return ReturnDecision(False, order.status)
    delivered_at = order.delivered_at
    if delivered_at is None:
        return ReturnDecision(False, "not_delivered")
    deadline = delivered_at + RETURN_WINDOW
    if now <= deadline:
        return ReturnDecision(True, deadline=deadline)
    return ReturnDecision(False, "window_closed", deadline=deadline)


def lateness(order: Order, now: datetime) -> Lateness | None:
    """How late the parcel is against its promised date, or None when it is on time (or nothing was promised)."""
    if order.promised_by is None or order.status in ("unpaid", "cancelled", "refunded"):
        return None
    arrived = order.delivered_at if order.status == "delivered" else None
    reference = arrived or now
    if reference <= order.promised_by:
        return None
    return Lateness(order.promised_by, reference - order.promised_by, delivered=arrived is not None)
