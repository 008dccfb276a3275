"""Which order a turn is about, and whether this asker may see it (never revealing someone else's order)."""
from __future__ import annotations

import logging
from typing import Any

from actions.identity import Identity, phone_last4, phone_matches
from actions.turn import Turn
from kefu.core import keys
from kefu.core.attempts import ORDER_PROOF_LIMIT, AttemptLimiter, Counter, Verdict, order_proof
from kefu.orders.base import Order, OrderNotFound

log = logging.getLogger(__name__)
MAX_LISTED_ORDERS = 5

VERIFY_WINDOW_S = 3600
"""Wrong phone digits are counted in fixed one-hour windows and then forgotten (counters expire, never deleted).

Order ids are sequential and the proof is 4 digits (10,000 values), so the limits below bound a guesser to a
few tries per hour, while a customer who mistypes a digit or two is not locked out for long."""
VERIFY_LIMIT_PER_CONVERSATION = 5
"""Wrong tries one conversation may make per window, across all orders: stops one visitor trying them all."""
VERIFY_LIMIT_PER_ORDER = ORDER_PROOF_LIMIT
"""Wrong tries against one order per window, from anywhere: a fresh conversation per guess gets no further.
The counter is shared with channel linking (kefu/core/attempts.py ``order_proof``): one order, one secret."""
VERIFY_LIMIT_PER_ADDRESS = 20
"""Wrong tries from one client address per window: higher, as several customers may share an office or NAT."""


async def fetch_visible(turn: Turn, order_id: str) -> Order | None:
    """The order if it exists and the asker may see it; None either way otherwise, so both look the same."""
    try:
        order = await turn.services.backend.get_order(order_id)
    except OrderNotFound:
        return None
    if not turn.identity.may_see(order):
        log.info("order %s hidden from customer %s", order_id, turn.identity.customer_id)
        return None
    return order


def _order_line(turn: Turn, order: Order) -> str:
    first = order.items[0].name(turn.lang) if order.items else ""
    return turn.tr("order.list_line", id=order.id, status=turn.label("label.status", order.status), item=first)


async def _ask_for_id(turn: Turn, topic: str) -> None:
    turn.set_awaiting({"want": "order_id", "topic": topic, "text": turn.text})
    if not turn.identity.signed_in:
        turn.say("ask.order_id_anonymous")
        return
    orders = await turn.services.backend.orders_of(turn.identity.customer_id or "")
    if not orders:
        turn.say("ask.order_id_no_orders")
        return
    lines = [_order_line(turn, order) for order in orders[:MAX_LISTED_ORDERS]]
    turn.say("ask.order_id_pick", orders="\n".join(lines))


def _verify_counters(identity: Identity, order_id: str) -> list[Counter]:
    """The counters an attempt on this order counts against (no address, no address counter)."""
    counters = [Counter(keys.verify_failures("conversation", identity.conversation_id),
                        VERIFY_LIMIT_PER_CONVERSATION, VERIFY_WINDOW_S),
                order_proof(order_id)]
    if identity.client_address:
        counters.append(Counter(keys.verify_failures("address", identity.client_address),
                                VERIFY_LIMIT_PER_ADDRESS, VERIFY_WINDOW_S))
    return counters


async def _verification_locked(turn: Turn, order_id: str, wrong: bool) -> bool:
    """Record this attempt (a wrong one counts) and say whether verification is locked, in one round trip.

    The wrong try that uses up the last chance is refused too, so the customer is told at once."""
    verdict = await AttemptLimiter(turn.services.redis).attempt(_verify_counters(turn.identity, order_id), wrong)
    locked = verdict is not Verdict.OPEN
    if locked:
        log.warning("phone verification locked: order %s, conversation %s, address %s",
                    order_id, turn.identity.conversation_id, turn.identity.client_address)
    return bool(locked)


async def _verify_anonymous(turn: Turn, topic: str, order_id: str, resume: dict[str, Any]) -> Order | None:
    last4 = phone_last4(turn.entity("phone"))
    if last4 is None:
        turn.set_slot("order_id", order_id)
        turn.set_awaiting({"want": "phone", "topic": topic, "order_id": order_id,
                           "text": resume.get("text", turn.text)})
        turn.say("ask.phone_last4", id=order_id)
        return None
    try:
        order = await turn.services.backend.get_order(order_id)
    except OrderNotFound:
        order = None
    matched = order is not None and phone_matches(order, last4)
    locked = await _verification_locked(turn, order_id, wrong=not matched)
    if locked or order is None or not matched:
        turn.set_awaiting(None)
        turn.set_slot("order_id", None)
        turn.say("order.verify_locked" if locked else "order.not_verified", id=order_id)
        return None
    verified = sorted({*turn.identity.verified_orders, order.id})
    turn.set_slot("verified_orders", verified)
    return order


async def resolve_order(turn: Turn, topic: str, resume: dict[str, Any] | None = None) -> Order | None:
    """The order the turn is about, or None after telling the customer what we need or why we cannot show it.

    Precedence: an id in this message, the id we were verifying, the id discussed earlier (slot), then
    the signed-in customer's only open order."""
    resume = resume or {}
    raw_id = turn.entity("order_id") or resume.get("order_id") or turn.slot("order_id")
    if not raw_id:
        if turn.identity.signed_in:
            orders = await turn.services.backend.orders_of(turn.identity.customer_id or "")
            open_orders = [order for order in orders if order.is_open]
            if len(open_orders) == 1:
                turn.set_slot("order_id", open_orders[0].id)
                return open_orders[0]
        await _ask_for_id(turn, topic)
        return None
    order_id = str(raw_id).strip().upper()
    if turn.identity.signed_in or order_id in turn.identity.verified_orders:
        order = await fetch_visible(turn, order_id)
    else:
        order = await _verify_anonymous(turn, topic, order_id, resume)
        if order is None:
            return None
    if order is None:
        turn.set_awaiting(None)
        turn.set_slot("order_id", None)
        turn.say("order.not_found", id=order_id)
        return None
    if turn.slot("order_id") != order.id:
        turn.set_slot("order_id", order.id)
    return order
