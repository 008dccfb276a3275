"""Finding a ticket by what the customer or a colleague quotes: an order id, a ticket id, a customer id, or the
last digits of a phone number. Reads the packet stored at each handoff (its orders, with phones) and, for an
order id, asks the order backend whose order it is, so a customer's later orders find their tickets too.
"""
from __future__ import annotations

import re
from typing import Any

from kefu.console.redact import customer_label
from kefu.handoff.manager import HandoffManager
from kefu.handoff.state import Handoff

ORDER_ID = re.compile(r"^DD\d{6,}$")
MIN_PHONE_DIGITS = 3
MAX_QUERY = 64


def _order_ids(packet: dict[str, Any]) -> set[str]:
    ids = {str(order.get("id", "")).upper() for order in packet.get("orders") or []}
    slots = packet.get("slots") or {}
    if slots.get("order_id"):
        ids.add(str(slots["order_id"]).upper())
    for entry in packet.get("transcript") or []:
        for entity in (entry.get("understanding") or {}).get("entities") or []:
            if entity.get("entity") == "order_id" and entity.get("value"):
                ids.add(str(entity["value"]).upper())
    return ids


def _phones(packet: dict[str, Any]) -> list[str]:
    return [re.sub(r"\D", "", str(order.get("phone") or "")) for order in packet.get("orders") or []]


def _said(packet: dict[str, Any], query: str) -> bool:
    return any(query in str(entry.get("text") or "").upper() for entry in packet.get("transcript") or [])


async def matches(manager: HandoffManager, candidates: list[Handoff], query: str) -> list[Handoff]:
    """The candidates ``query`` finds, in the order given."""
    query = query.strip()[:MAX_QUERY]
    upper = query.upper()
    if not query:
        return []
    owner = None
    if ORDER_ID.match(upper):
        order = await manager.order(upper)
        owner = order.customer_id if order is not None else None
    digits = query if query.isdigit() and len(query) >= MIN_PHONE_DIGITS else ""
    found = []
    for handoff in candidates:
        if _found_in_handoff(handoff, upper) or (owner and handoff.customer_id == owner):
            found.append(handoff)
            continue
        packet = await manager.stored_packet(handoff.ticket_id)
        by_order = ORDER_ID.match(upper) and (upper in _order_ids(packet) or _said(packet, upper))
        if by_order or (digits and any(phone.endswith(digits) for phone in _phones(packet))):
            found.append(handoff)
    return found


def _found_in_handoff(handoff: Handoff, upper: str) -> bool:
    ticket = handoff.ticket_id.upper()
    if upper == ticket or (upper.isdigit() and ticket.endswith(upper) and len(upper) >= 4):
        return True
    if handoff.customer_id and upper == handoff.customer_id.upper():
        return True
    return upper == customer_label(handoff.customer_id, handoff.conversation_id).upper()
