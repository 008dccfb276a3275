"""Topics that need no order: shop policy, ticket status, small talk, handoff, out of scope, fallback."""
from __future__ import annotations

import re

from actions.registry import topic
from actions.turn import Turn
from kefu.core.offers import INTENT_OF_KIND, offer
from kefu.core.tickets import Ticket
from kefu.orders.base import Order

# Policy questions by keyword, in both languages; the first matching ones are answered, else a summary.
POLICY_KEYWORDS: dict[str, re.Pattern[str]] = {
    "shipping_fee": re.compile(r"运费|邮费|包邮|免运费|免邮|shipping (?:fee|cost|charge)|delivery (?:fee|cost|charge)"
                               r"|free shipping|postage", re.IGNORECASE),
    "delivery_time": re.compile(r"多久|几天|多长时间|什么时候到|配送时间|发货时间|时效|送达|how long|delivery time"
                                r"|how many days|when will .* (?:arrive|ship)|dispatch", re.IGNORECASE),
    "couriers": re.compile(r"快递|物流公司|顺丰|圆通|中通|京东物流|courier|carrier|which express|logistics company",
                           re.IGNORECASE),
    "payment": re.compile(r"支付|付款|微信支付|支付宝|花呗|信用卡|分期|货到付款|payment|pay with|pay by|alipay"
                          r"|wechat pay|credit card|instal?lment|cash on delivery", re.IGNORECASE),
    "returns": re.compile(r"退货|退换|七天|7天|7 天|无理由|return policy|returns?\b|refund policy|exchange policy",
                          re.IGNORECASE),
    "warranty": re.compile(r"保修|质保|维修|三包|warranty|guarantee|repair", re.IGNORECASE),
}

SMALLTALK_KEYS = {"greet": "smalltalk.greet", "goodbye": "smalltalk.goodbye", "thank": "smalltalk.thank"}
KIND_OF_INTENT = {intent: kind for kind, intent in INTENT_OF_KIND.items()}


def policy_topics(text: str) -> list[str]:
    """The policy subjects the question mentions, in catalog order."""
    return [name for name, pattern in POLICY_KEYWORDS.items() if pattern.search(text)]


@topic("policy")
async def policy(turn: Turn, order: Order | None) -> None:
    subjects = policy_topics(turn.text)
    if not subjects:
        turn.say("policy.summary")
        return
    turn.say_text("\n".join(turn.tr(f"policy.{subject}") for subject in subjects))


def _visible_ticket(turn: Turn, ticket: Ticket | None) -> Ticket | None:
    """A ticket is shown to its customer, or to anyone quoting the id of a ticket opened anonymously."""
    if ticket is None:
        return None
    if ticket.customer_id is None or ticket.customer_id == turn.identity.customer_id:
        return ticket
    return None


@topic("ticket_status")
async def ticket_status(turn: Turn, order: Order | None) -> None:
    tickets = turn.services.tickets
    ticket_id = turn.entity("ticket_id")
    if ticket_id:
        ticket = _visible_ticket(turn, await tickets.get(ticket_id.strip().upper()))
        if ticket is None:
            turn.say("ticket.not_found", id=ticket_id.upper())
            return
    elif turn.identity.signed_in:
        ticket = await tickets.latest_for(turn.identity.customer_id or "")
        if ticket is None:
            turn.say("ticket.none")
            return
    else:
        turn.say("ticket.ask_id")
        return
    turn.say("ticket.status", id=ticket.id, reason=turn.label("label.ticket_reason", ticket.reason),
             status=turn.label("label.ticket_state", ticket.status), updated=turn.when(ticket.updated_at),
             note=ticket.last_update or turn.tr("ticket.no_note"))


@topic("smalltalk")
async def smalltalk(turn: Turn, order: Order | None) -> None:
    turn.say(SMALLTALK_KEYS.get(turn.intent, "smalltalk.greet"))


@topic("handoff", clears_awaiting=True)
async def handoff(turn: Turn, order: Order | None) -> None:
    """Reached only when the gateway opened no handoff (below its confidence threshold; a handoff replaces this
    reply): so the bot asks, never claims a transfer, and the "yes" button sends the intent the handoff acts on."""
    text, buttons = offer(KIND_OF_INTENT.get(turn.intent, "human"), turn.lang)
    turn.say_text(text, [{"title": button.title, "payload": button.payload} for button in buttons])


@topic("out_of_scope")
async def out_of_scope(turn: Turn, order: Order | None) -> None:
    turn.say("out_of_scope")


@topic("fallback")
async def fallback(turn: Turn, order: Order | None) -> None:
    turn.say("fallback.rephrase")
