"""The order-events contract: what the shop POSTs to ``/api/order-events`` when an order moves on.

One event per request, a JSON object (UTF-8, at most 64 KiB)::

    {
      "id": "evt-20261202-0001",          # required, 1-128 of [A-Za-z0-9_.:-]: the idempotency key
      "type": "shipped",                  # required, one of TYPES below
      "order_id": "DD20261104002",        # required, an order the order backend knows
      "occurred_at": "2026-12-02T09:00:00+08:00",   # optional ISO-8601 with offset (default: when received)
      "data": {...}                       # optional object, per type:
    }

    shipped           {"carrier": "SF", "tracking_no": "SF1408823901"}   (default: the order's own)
    delayed           {"expected_by": ISO-8601}   the order is past its promised date; when it is now expected
                                                  (optional); the promised date is the order's ``promised_by``
    delivered         {}
    refund_completed  {"amount": 199.0}           (default: the order's total)
    return_received   {}

Headers: ``X-Kefu-Timestamp`` (unix seconds) and ``X-Kefu-Signature: sha256=<hex>``, the HMAC-SHA256 keyed with
``KEFU_ORDER_EVENTS_SECRET`` of ``<timestamp>.<raw body>`` (kefu/commitments/signing.py). Answers
(kefu/commitments/webhook.py): 200 ``{"event_id", "status"}`` with status ``sent``, ``kept`` (delivered at the
customer's next contact), ``opted_out``, or ``duplicate`` (this event id was handled before: nothing is sent
again); 4xx ``{"error", "message"}`` for anything refused, and then nothing is sent.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TYPES = ("shipped", "delayed", "delivered", "refund_completed", "return_received")
EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class EventRefused(ValueError):
    """The body is not a valid event; ``code`` is the error the webhook answers with (HTTP 400 or 422)."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class OrderEvent:
    id: str
    type: str
    order_id: str
    occurred_at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "order_id": self.order_id,
                "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None, "data": self.data}


def parse_event(body: bytes) -> OrderEvent:
    """The event in a request body, or EventRefused saying which field is wrong."""
    try:
        raw = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise EventRefused("bad_json", "the body is not JSON (UTF-8)", 400) from None
    return event_from_dict(raw)


def event_from_dict(raw: Any) -> OrderEvent:
    if not isinstance(raw, dict):
        raise EventRefused("invalid_event", "an event is a JSON object")
    event_id, kind, order_id = raw.get("id"), raw.get("type"), raw.get("order_id")
    if not isinstance(event_id, str) or not EVENT_ID.match(event_id):
        raise EventRefused("invalid_event", "id must be 1-128 characters of A-Z a-z 0-9 _ . : -")
    if not isinstance(kind, str) or kind not in TYPES:
        raise EventRefused("unknown_type", f"type must be one of {', '.join(TYPES)}")
    if not isinstance(order_id, str) or not ORDER_ID.match(order_id):
        raise EventRefused("invalid_event", "order_id must be an order id")
    data = raw.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise EventRefused("invalid_event", "data must be an object")
    _check_data(kind, data)
    return OrderEvent(event_id, kind, order_id.upper(), _when(raw.get("occurred_at"), "occurred_at"), data)


def _check_data(kind: str, data: dict[str, Any]) -> None:
    for name in ("carrier", "tracking_no"):
        if name in data and not (isinstance(data[name], str) and 0 < len(data[name]) <= 64):
            raise EventRefused("invalid_event", f"data.{name} must be a short text")
    if "amount" in data and (isinstance(data["amount"], bool) or not isinstance(data["amount"], int | float)
                             or data["amount"] < 0):
        raise EventRefused("invalid_event", "data.amount must be a non-negative number")
    if kind == "delayed":
        _when(data.get("expected_by"), "data.expected_by")


def _when(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise EventRefused("invalid_event", f"{name} must be an ISO-8601 time with its offset")
    return when
