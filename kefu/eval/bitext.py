"""Bitext customer-support sentences as eval cases, labels mapped as ../shared/eval/README.md says.

Account, newsletter, review and place-order questions are out of Kefu's scope: they must get neither an order
topic nor a handoff. ``change_order``, ``set_up_shipping_address`` and ``payment_issue`` are ambiguous and
not scored.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

TOPICS_OF_INTENT: dict[str, list[str]] = {
    "track_order": ["order_status"],
    "cancel_order": ["cancel_order"],
    "change_shipping_address": ["change_address"],
    "get_refund": ["refund"],
    "track_refund": ["refund", "ticket_status"],
    "get_invoice": ["invoice"],
    "check_invoice": ["invoice"],
    "check_refund_policy": ["policy"],
    "delivery_options": ["policy"],
    "delivery_period": ["policy", "order_status"],
    "check_payment_methods": ["policy"],
    "check_cancellation_fee": ["policy", "cancel_order"],
}
HANDOFF_OF_INTENT = {"complaint": "complaint", "contact_human_agent": "human", "contact_customer_service": "human"}
OUT_OF_SCOPE = frozenset({"create_account", "delete_account", "edit_account", "switch_account", "recover_password",
                          "registration_problems", "newsletter_subscription", "review", "place_order"})


def case_of(number: int, sentence: str, intent: str) -> dict[str, Any] | None:
    case: dict[str, Any] = {"id": f"bitext-{number}", "lang": "en", "turns": [sentence], "label": intent}
    if intent in TOPICS_OF_INTENT:
        return case | {"route": "bot", "reason": None, "topic_any": TOPICS_OF_INTENT[intent]}
    if intent in HANDOFF_OF_INTENT:
        return case | {"route": "handoff", "reason": HANDOFF_OF_INTENT[intent]}
    if intent in OUT_OF_SCOPE:
        return case | {"route": "bot", "kept_off_orders": True}
    return None


def read_bitext(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    cases = (case_of(number, row["sentence"], row["intent"].strip()) for number, row in enumerate(rows, 1))
    return [case for case in cases if case is not None]
