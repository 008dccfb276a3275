"""After-sales topics: refunds, returns and exchanges, invoices, decided by actions.aftersales."""
from __future__ import annotations

import re
from typing import Any

from actions.registry import on_confirm, on_deny, on_text, topic
from actions.resolve import fetch_visible
from actions.turn import Turn
from kefu.orders import aftersales
from kefu.orders.base import Order

_EXCHANGE = re.compile(r"换货|换一|换个|调换|换尺码|换码|换颜色|exchange|swap|replace|different size", re.IGNORECASE)
# Chinese tax ids (统一社会信用代码) are 18 characters; older ones 15 or 20.
_TAX_ID = re.compile(r"(?<![0-9A-Za-z])(?=[0-9A-Za-z]*\d)([0-9A-Za-z]{18}|[0-9A-Za-z]{15}|[0-9A-Za-z]{20})(?![0-9A-Za-z])")
_PERSONAL = re.compile(r"个人|personal|individual|myself|private", re.IGNORECASE)
_TITLE_AFTER = re.compile(r"(?:抬头|名称|title|company)\s*(?:是|为|is|:|：)?\s*([^，,。;；\n]+)", re.IGNORECASE)
_COMPANY_ZH = re.compile(r"[\u4e00-\u9fff（）()A-Za-z0-9]{2,40}?(?:有限责任公司|股份有限公司|有限公司|公司|集团|工作室|事务所|商行|中心)")
_COMPANY_EN = re.compile(r"[A-Z][\w&.' -]{1,60}?\b(?:Co\., Ltd\.?|Co\. Ltd\.?|Ltd\.?|Limited|Inc\.?|LLC|GmbH|Corp\.?)",
                         re.IGNORECASE)
_FILLER_ZH = re.compile(r"^(?:我要|我想|请|帮我|麻烦)?(?:开|开具)?(?:一张)?(?:电子)?(?:增值税)?(?:普通|专用)?发票(?:开给|给)?")
_FILLER_EN = re.compile(r"^.*?\binvoices?\b\s*(?:(?:made\s+)?(?:out\s+)?(?:for|to)\b)?\s*", re.IGNORECASE)
_ORDER_ID = re.compile(r"DD\d{8,14}", re.IGNORECASE)


def _strip_filler(text: str) -> str:
    return _FILLER_EN.sub("", _FILLER_ZH.sub("", text.strip())).strip()


@topic("refund", needs_order=True)
async def refund(turn: Turn, order: Order | None) -> None:
    assert order is not None
    decision = aftersales.refund_decision(order, turn.now)
    outcome = decision.outcome
    if outcome == "not_paid":
        turn.say("refund.not_paid", id=order.id, deadline=turn.when(order.pay_deadline))
    elif outcome == "delivered":
        window = aftersales.return_decision(order, turn.now)
        key = "refund.delivered_in_window" if window.allowed else "refund.delivered_late"
        turn.say(key, id=order.id, deadline=turn.when(window.deadline))
    elif outcome == "already_closed":
        turn.say(f"refund.closed.{order.status}", id=order.id,
                 when=turn.when(order.refunded_at or order.cancelled_at))
    elif outcome == "review" and order.refund_requested_at is not None:
        reply_by = order.refund_requested_at + aftersales.REVIEW_REPLY_WITHIN
        turn.say("refund.already_reviewing", id=order.id, reply_by=turn.when(reply_by))
    else:
        await _request_refund(turn, order, outcome, decision.reply_by)


async def _request_refund(turn: Turn, order: Order, outcome: str, reply_by: Any) -> None:
    request = await turn.services.backend.request_refund(order.id, turn.request_text[:500],
                                                         idempotency_key=turn.operation_key("refund", order.id))
    if outcome == "review":
        # A promised call-back is a tracked commitment (field note 9): it gets a ticket with the due time.
        ticket = await turn.services.tickets.create(
            customer_id=order.customer_id, conversation_id=turn.identity.conversation_id,
            reason="refund_review", priority="normal", trigger_text=turn.request_text[:500],
            channel=turn.identity.channel,
        )
        turn.say("refund.review", id=order.id, reply_by=turn.when(reply_by), ticket=ticket.id,
                 request=request.id)
        return
    key = "refund.done_auto" if outcome == "auto_refund" else "refund.done_now"
    turn.say(key, id=order.id, total=turn.money(order.total), request=request.id)


def return_kind(text: str) -> str:
    """"exchange" when the customer asks to swap the item, else "return"."""
    return "exchange" if _EXCHANGE.search(text) else "return"


@topic("return_exchange", needs_order=True)
async def return_exchange(turn: Turn, order: Order | None) -> None:
    assert order is not None
    kind = return_kind(turn.request_text)
    decision = aftersales.return_decision(order, turn.now)
    kind_label = turn.tr(f"return.kind.{kind}")
    if not decision.allowed:
        turn.say(f"return.refused.{decision.reason}", id=order.id, kind=kind_label,
                 delivered=turn.when(order.delivered_at), deadline=turn.when(decision.deadline))
        return
    text = turn.tr("return.allowed", id=order.id, kind=kind_label, deadline=turn.when(decision.deadline),
                   address=turn.services.settings.shop.return_address)
    turn.ask_confirm(text, {"topic": "return_exchange", "order_id": order.id, "kind": kind},
                     yes="button.pickup", no="button.self_ship")


async def _return(turn: Turn, awaiting: dict[str, Any], pickup: bool) -> None:
    order = await fetch_visible(turn, str(awaiting.get("order_id", "")))
    if order is None:
        turn.say("order.not_found", id=awaiting.get("order_id", ""))
        return
    kind = "exchange" if awaiting.get("kind") == "exchange" else "return"
    request = await turn.services.backend.request_return(order.id, kind, pickup,
                                                         idempotency_key=turn.operation_key("return", order.id))
    turn.say("return.pickup_booked" if pickup else "return.self_ship", id=order.id, request=request.id,
             kind=turn.tr(f"return.kind.{kind}"), address=turn.services.settings.shop.return_address)


@on_confirm("return_exchange")
async def return_with_pickup(turn: Turn, awaiting: dict[str, Any]) -> None:
    await _return(turn, awaiting, pickup=True)


@on_deny("return_exchange")
async def return_without_pickup(turn: Turn, awaiting: dict[str, Any]) -> None:
    """"No" to a courier pickup still means a return: the customer ships it to us themselves."""
    await _return(turn, awaiting, pickup=False)


def parse_invoice(text: str) -> tuple[str | None, str | None, bool]:
    """(title, tax id, personal?) found in free text; a personal invoice needs no tax id."""
    text = _ORDER_ID.sub(" ", text)
    tax = _TAX_ID.search(text)
    tax_id = tax.group(1).upper() if tax else None
    if _PERSONAL.search(text):
        return None, None, True
    rest = _TAX_ID.sub(" ", text)
    for pattern in (_TITLE_AFTER, _COMPANY_ZH, _COMPANY_EN):
        match = pattern.search(_strip_filler(rest))
        if match:
            title = (match.group(1) if match.groups() else match.group(0)).strip(" ，,。.;；")
            title = re.sub(r"(?:税号|tax\s*id).*$", "", title, flags=re.IGNORECASE).strip(" ，,。.;；:：")
            if title:
                return title, tax_id, False
    return None, tax_id, False


@topic("invoice", needs_order=True)
async def invoice(turn: Turn, order: Order | None) -> None:
    assert order is not None
    if order.status not in ("paid", "shipped", "delivered"):
        turn.say(f"invoice.unavailable.{order.status}", id=order.id)
        return
    title, tax_id, personal = parse_invoice(turn.request_text)
    await _continue_invoice(turn, order, {"title": title, "tax_id": tax_id, "personal": personal})


async def _continue_invoice(turn: Turn, order: Order, found: dict[str, Any]) -> None:
    """Ask for whatever is still missing; once complete, request the e-invoice."""
    if found.get("personal"):
        title, tax_id = turn.tr("invoice.personal_title"), None
    else:
        title, tax_id = found.get("title"), found.get("tax_id")
        if not title or not tax_id:
            turn.set_awaiting({"want": "invoice", "topic": "invoice", "order_id": order.id,
                               "title": title, "tax_id": tax_id})
            turn.say("invoice.ask_tax_id" if title else "invoice.ask_title", id=order.id, title=title or "")
            return
    request = await turn.services.backend.request_invoice(order.id, title, tax_id,
                                                          idempotency_key=turn.operation_key("invoice", order.id))
    turn.set_awaiting(None)
    turn.say("invoice.done", id=order.id, title=title, tax_id=tax_id or "-", request=request.id)


@on_text("invoice")
async def invoice_details_given(turn: Turn, awaiting: dict[str, Any]) -> None:
    """The answer to "which title / tax id?": merge it with what we already had."""
    order = await fetch_visible(turn, str(awaiting.get("order_id", "")))
    if order is None:
        turn.set_awaiting(None)
        turn.say("order.not_found", id=awaiting.get("order_id", ""))
        return
    title, tax_id, personal = parse_invoice(turn.text)
    if not title and not tax_id and not personal and not awaiting.get("title"):
        title = _strip_filler(_ORDER_ID.sub(" ", turn.text)).strip(" ，,。.;；") or None
    found = {"title": title or awaiting.get("title"), "tax_id": tax_id or awaiting.get("tax_id"),
             "personal": personal}
    await _continue_invoice(turn, order, found)
