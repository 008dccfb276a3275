"""Consoles never receive anonymous visitors' ids (issue 9 #7): a web-chat visitor id is the bearer secret of
that customer's chat (whoever presents it reads and writes the conversation), so every event, board and packet
sent to a console goes through ``redacted``, which swaps each ``visitor:<id>`` for a short label that names the
visitor without letting anyone act as them.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

VISITOR = re.compile(r"visitor:[A-Za-z0-9_-]+")


def visitor_label(conversation_id: str) -> str:
    """A stable, non-secret name for an anonymous conversation: "visitor #3fa9c1" (6 hex of a SHA-256)."""
    return "visitor #" + hashlib.sha256(conversation_id.encode()).hexdigest()[:6]


def customer_label(customer_id: str | None, conversation_id: str) -> str:
    """What agents call the customer: the shop's customer id when signed in, else the visitor label."""
    if customer_id:
        return str(customer_id)
    return visitor_label(conversation_id) if conversation_id.startswith("visitor:") else conversation_id


def redacted(data: Any) -> Any:
    """``data`` (JSON-like) with every visitor id replaced by its label, at any depth, in keys and values."""
    if isinstance(data, str):
        return VISITOR.sub(lambda found: visitor_label(found[0]), data) if "visitor:" in data else data
    if isinstance(data, dict):
        return {redacted(key): redacted(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [redacted(value) for value in data]
    return data
