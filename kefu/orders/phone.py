"""The phone check that lets an anonymous customer prove an order is theirs: the last 4 digits on the order.

Shared by the action server (a visitor asking about an order) and the channels (linking a WeChat or Telegram
user to the customer behind an order).
"""
from __future__ import annotations

import re

from kefu.orders.base import Order

_DIGITS = re.compile(r"\D")


def phone_last4(value: str | None) -> str | None:
    """The last 4 digits from a phone entity (an 11-digit number or just 4 digits), else None."""
    if not value:
        return None
    digits = _DIGITS.sub("", str(value))
    if len(digits) in (4, 11):
        return digits[-4:]
    return None


def phone_matches(order: Order, last4: str) -> bool:
    """Whether last4 are the last 4 digits of the phone on the order."""
    return len(last4) == 4 and _DIGITS.sub("", order.phone).endswith(last4)
