"""HINT3 (Curekart) sentences as eval cases: real e-commerce queries, labels mapped to Kefu's topics.

Labels outside Kefu's scope (product questions) get ``kept_off_orders``: they must not be answered
as if they were order questions.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

TOPIC_OF_LABEL = {
    "ORDER_STATUS": "order_status",
    "DELAY_IN_PARCEL": "order_status",
    "CANCEL_ORDER": "cancel_order",
    "MODIFY_ADDRESS": "change_address",
}
REFUND_OR_RETURN = "REFUNDS_RETURNS_REPLACEMENTS"
AGENT = "CHAT_WITH_AGENT"
ORDER_TOPICS = frozenset({"order_status", "cancel_order", "change_address", "refund", "return_exchange", "invoice"})


def case_of(number: int, sentence: str, label: str) -> dict[str, Any]:
    case: dict[str, Any] = {"id": f"hint3-{number}", "lang": "en", "turns": [sentence], "label": label}
    if label in TOPIC_OF_LABEL:
        case |= {"route": "bot", "reason": None, "topic": TOPIC_OF_LABEL[label]}
    elif label == REFUND_OR_RETURN:
        case |= {"route": "bot", "reason": None, "topic_any": ["refund", "return_exchange"]}
    elif label == AGENT:
        case |= {"route": "handoff", "reason": "human"}
    else:
        case |= {"kept_off_orders": True}
    return case


def read_hint3(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("sentence") and row.get("label")]
    return [case_of(number, row["sentence"], row["label"].strip()) for number, row in enumerate(rows, 1)]
