"""Order topics: where is my order, cancel it, change its delivery address."""
from __future__ import annotations

import re
from typing import Any

from actions.registry import on_confirm, on_text, topic
from actions.resolve import fetch_visible
from actions.turn import Turn
from kefu.orders import aftersales
from kefu.orders.base import Order, OrderItem, TrackingEvent

TIMELINE_EVENTS = 3
MIN_ADDRESS_CHARS = 5
# "改成 / 改为 / 换成 …", "change the address to …", "address: …": the address follows the last marker.
# English "to" counts only after "address"/"deliver"/"ship"/"send" ("I want to change…" is no address).
_ADDRESS_MARKERS = (
    re.compile(r"(?:改成|改为|改到|换成|换到|更改为|修改为|变更为|寄到|送到)\s*"),
    re.compile(r"\b(?:address|deliver|ship|send)\w*\b.*?\bto\b\s*", re.IGNORECASE),
    re.compile(r"[:：]\s*"),
)
_ORDER_ID = re.compile(r"DD\d{8,14}", re.IGNORECASE)


def extract_address(text: str) -> str | None:
    """The new address written after a marker, without order ids or trailing punctuation; None if absent."""
    ends = [match.end() for marker in _ADDRESS_MARKERS for match in marker.finditer(text)]
    if not ends:
        return None
    return clean_address(text[max(ends):]) or None


def clean_address(text: str) -> str:
    text = _ORDER_ID.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip(" \t\n，,。.!！?？;；")


def _event_line(turn: Turn, event: TrackingEvent) -> str:
    text = event.text_en if turn.lang == "en" else event.text_zh
    return turn.tr("status.event", time=turn.when(event.time), place=event.place, text=text)


def _timeline(turn: Turn, events: tuple[TrackingEvent, ...]) -> list[str]:
    latest = sorted(events, key=lambda e: e.time, reverse=True)[:TIMELINE_EVENTS]
    return [_event_line(turn, event) for event in latest]


def _items(turn: Turn, order: Order) -> str:
    return turn.tr("list.separator").join(
        turn.tr("order.item", name=item.name(turn.lang), qty=item.qty) for item in order.items)


def _partner_lines(turn: Turn, order: Order) -> list[str]:
    """Partner-fulfilled lines are ours to answer for too (field note 2): show their own tracking."""
    lines: list[str] = []
    for item in order.partner_items:
        key = "status.partner_gift" if item.gift else "status.partner_item"
        lines.append(turn.tr(key, name=item.name(turn.lang), partner=item.fulfilled_by,
                             carrier=turn.label("label.carrier", item.carrier), tracking_no=item.tracking_no or "-"))
        lines.extend(_timeline(turn, item.tracking)[:1])
        if _partner_stale(turn, item, order):
            lines.append(turn.tr("status.partner_stale", name=item.name(turn.lang)))
    return lines


def _partner_stale(turn: Turn, item: OrderItem, order: Order) -> bool:
    if order.status in ("cancelled", "refunded") or not item.tracking:
        return item.tracking_no is not None and not item.tracking and order.status in ("shipped", "delivered")
    last = max(event.time for event in item.tracking)
    delivered = any("签收" in e.text_zh for e in item.tracking)
    return not delivered and turn.now - last >= aftersales.STALE_TRACKING


def _status_lines(turn: Turn, order: Order) -> list[str]:
    lines = [turn.tr("status.header", id=order.id, status=turn.label("label.status", order.status),
                     items=_items(turn, order))]
    state_key = f"status.state.{order.status}"
    lines.append(turn.tr(state_key, deadline=turn.when(order.pay_deadline), promised=turn.when(order.promised_by),
                         paid=turn.when(order.paid_at), delivered=turn.when(order.delivered_at),
                         cancelled=turn.when(order.cancelled_at), refunded=turn.when(order.refunded_at)))
    if order.status in ("shipped", "delivered") and order.tracking_no:
        lines.append(turn.tr("status.carrier", carrier=turn.label("label.carrier", order.carrier),
                             tracking_no=order.tracking_no))
        if order.tracking:
            lines.append(turn.tr("status.timeline"))
            lines.extend(_timeline(turn, order.tracking))
        else:
            lines.append(turn.tr("status.no_events"))
    if aftersales.tracking_stale(order, turn.now):
        last = aftersales.last_tracking_time(order)
        lines.append(turn.tr("status.stale", hours=turn.hours(turn.now - last) if last else 72))
    late = aftersales.lateness(order, turn.now)
    if late is not None:
        key = "status.late_delivered" if late.delivered else "status.late"
        lines.append(turn.tr(key, promised=turn.when(late.promised_by), hours=turn.hours(late.late_by)))
    if order.refund_requested_at and order.status == "shipped":
        lines.append(turn.tr("status.refund_under_review", since=turn.when(order.refund_requested_at)))
    lines.extend(_partner_lines(turn, order))
    return lines


@topic("order_status", needs_order=True)
async def order_status(turn: Turn, order: Order | None) -> None:
    assert order is not None
    turn.say_text("\n".join(_status_lines(turn, order)))


def _refusal(turn: Turn, order: Order, action: str, reason: str) -> None:
    turn.say(f"{action}.refused.{reason}", id=order.id)


@topic("cancel_order", needs_order=True)
async def cancel_order(turn: Turn, order: Order | None) -> None:
    assert order is not None
    decision = aftersales.can_cancel(order)
    if not decision.allowed:
        _refusal(turn, order, "cancel", decision.reason)
        return
    key = "cancel.confirm_paid" if order.status == "paid" else "cancel.confirm_unpaid"
    turn.ask_confirm(turn.tr(key, id=order.id, items=_items(turn, order), total=turn.money(order.total)),
                     {"topic": "cancel_order", "order_id": order.id})


async def _confirmed_order(turn: Turn, awaiting: dict[str, Any]) -> Order | None:
    """Fetch the order a confirmation was about again: it may have moved on since we asked."""
    order = await fetch_visible(turn, str(awaiting.get("order_id", "")))
    if order is None:
        turn.say("order.not_found", id=awaiting.get("order_id", ""))
    return order


@on_confirm("cancel_order")
async def cancel_confirmed(turn: Turn, awaiting: dict[str, Any]) -> None:
    order = await _confirmed_order(turn, awaiting)
    if order is None:
        return
    decision = aftersales.can_cancel(order)
    if not decision.allowed:
        _refusal(turn, order, "cancel", decision.reason)
        return
    was_paid = order.status == "paid"
    await turn.services.backend.cancel(order.id, idempotency_key=turn.operation_key("cancel", order.id))
    turn.say("cancel.done_paid" if was_paid else "cancel.done_unpaid", id=order.id, total=turn.money(order.total))


@topic("change_address", needs_order=True)
async def change_address(turn: Turn, order: Order | None) -> None:
    assert order is not None
    decision = aftersales.can_change_address(order)
    if not decision.allowed:
        _refusal(turn, order, "address", decision.reason)
        return
    address = extract_address(turn.text) or extract_address(turn.request_text)
    await _propose_address(turn, order, address)


async def _propose_address(turn: Turn, order: Order, address: str | None) -> None:
    if not address or len(address) < MIN_ADDRESS_CHARS:
        turn.set_awaiting({"want": "address", "topic": "change_address", "order_id": order.id})
        turn.say("address.ask" if not address else "address.too_short", id=order.id, current=order.address)
        return
    turn.ask_confirm(turn.tr("address.confirm", id=order.id, old=order.address, new=address),
                     {"topic": "change_address", "order_id": order.id, "address": address})


@on_text("change_address")
async def address_given(turn: Turn, awaiting: dict[str, Any]) -> None:
    """The customer answered "which address?": the whole message is the address, whatever its intent."""
    order = await _confirmed_order(turn, awaiting)
    if order is None:
        turn.set_awaiting(None)
        return
    await _propose_address(turn, order, extract_address(turn.text) or clean_address(turn.text))


@on_confirm("change_address")
async def address_confirmed(turn: Turn, awaiting: dict[str, Any]) -> None:
    order = await _confirmed_order(turn, awaiting)
    if order is None:
        return
    decision = aftersales.can_change_address(order)
    if not decision.allowed:
        _refusal(turn, order, "address", decision.reason)
        return
    updated = await turn.services.backend.change_address(
        order.id, str(awaiting["address"]), idempotency_key=turn.operation_key("address", order.id))
    turn.say("address.done", id=updated.id, address=updated.address)
