"""Who is asking, and which orders they may see: their own when signed in, proven ones when anonymous."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kefu.orders.base import Order
from kefu.orders.phone import phone_last4, phone_matches

__all__ = ["CHANNELS", "Identity", "phone_last4", "phone_matches"]

CHANNELS = ("web", "wechat", "telegram", "eval")


@dataclass(frozen=True)
class Identity:
    """The gateway's verdict on the sender (message metadata), plus orders proven earlier in the conversation."""

    customer_id: str | None
    channel: str
    conversation_id: str
    verified_orders: frozenset[str] = frozenset()
    # The sender's network address when the gateway knows it (web chat); counts guesses across conversations.
    client_address: str | None = None

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
            client_address=str(metadata.get("client_address") or "").strip() or None,
        )

    def may_see(self, order: Order) -> bool:
        """A signed-in customer sees only their orders; an anonymous visitor only orders proven by phone."""
        if self.signed_in:
            return order.customer_id == self.customer_id
        return order.id in self.verified_orders
