"""Who is asking, and which orders they may see: their own when signed in, proven ones when anonymous."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kefu.orders.base import Order

CHANNELS = ("web", "wechat", "telegram", "eval")
_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class Identity:
    """The gateway's verdict on the sender (message metadata), plus orders proven earlier in the conversation."""

    customer_id: str | None
    channel: str
    conversation_id: str
    verified_orders: frozenset[str] = frozenset()

    @property
    def signed_in(self) -> bool:
        return bool(self.customer_id)

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any] | None, sender_id: str,
                      verified_orders: list[str] | None = None) -> Identity:
        """Read metadata defensively: anything missing or odd means an anonymous web visitor."""
        metadata = metadata if isinstance(metadata, dict) else {}
        customer_id = metadata.get("customer_id")
        channel = metadata.get("channel")
        return cls(
            customer_id=str(customer_id) if customer_id else None,
            channel=channel if channel in CHANNELS else "web",
            conversation_id=str(metadata.get("conversation_id") or sender_id),
            verified_orders=frozenset(verified_orders or ()),
        )

    def may_see(self, order: Order) -> bool:
        """A signed-in customer sees only their orders; an anonymous visitor only orders proven by phone."""
        if self.signed_in:
            return order.customer_id == self.customer_id
        return order.id in self.verified_orders


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
