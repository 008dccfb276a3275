"""The context packet: everything an agent needs so the customer never tells the story twice (field note 8).

One JSON document (version 1), built at handoff and rebuilt live whenever an agent opens the ticket:

    {
      "version": 1,
      "ticket":   {"id", "reason", "priority", "status", "created_at", "trigger": {"id", "text", "channel", "ts"},
                   "decision": {"route", "reason", "priority", "source", "evidence"}},
      "customer": {"customer_id", "conversation_id", "channel", "lang"},
      "transcript": [{"id", "role": "customer"|"bot"|"agent"|"system", "text", "ts", "channel",
                      "understanding"?: {"intent", "confidence", "entities"}}],   # every channel, oldest first
      "slots":    {...},                       # Rasa's slots at the handoff
      "orders":   [Order.to_dict() ...],       # live from the order backend: status, items, tracking timeline
      "orders_error": null | "unavailable",
      "earlier_tickets": [{"id", "reason", "priority", "status", "created_at", "updated_at", "trigger_text",
                           "last_update"}],
      "notes":    [{"agent", "text", "ts", "ticket"}]   # agents' private notes, across handoffs
    }
"""
from __future__ import annotations

import logging
from typing import Any

from kefu.core.conversations import ConversationStore
from kefu.core.tickets import Ticket, TicketStore
from kefu.handoff.decision import Decision
from kefu.handoff.state import Handoff, HandoffStore
from kefu.orders import BackendUnavailable, OrderBackend, OrderNotFound

log = logging.getLogger(__name__)
PACKET_VERSION = 1
MAX_ORDERS = 20


def notes_subject(handoff: Handoff) -> str:
    """Notes follow the customer (or the anonymous conversation) from one handoff to the next."""
    return f"cust:{handoff.customer_id}" if handoff.customer_id else handoff.conversation_id


def _ticket_row(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id, "reason": ticket.reason, "priority": ticket.priority, "status": ticket.status,
        "created_at": ticket.created_at.isoformat(), "updated_at": ticket.updated_at.isoformat(),
        "trigger_text": ticket.trigger_text, "last_update": ticket.last_update,
    }


def _mentioned_orders(transcript: list[dict[str, Any]], slots: dict[str, Any], limit: int = MAX_ORDERS) -> list[str]:
    """The order ids the conversation mentions, the one in the slots first, then the most recently mentioned (for
    anonymous visitors, whose orders we cannot list); at most ``limit``, so a long conversation does not cost a
    lookup per order ever named."""
    ids = [str(slots["order_id"]).upper()] if slots.get("order_id") else []
    for entry in reversed(transcript):
        for entity in (entry.get("understanding") or {}).get("entities") or []:
            if entity.get("entity") == "order_id" and entity.get("value"):
                ids.append(str(entity["value"]).upper())
    return list(dict.fromkeys(ids))[:limit]


class ContextBuilder:
    def __init__(
        self, conversations: ConversationStore, tickets: TicketStore, backend: OrderBackend, store: HandoffStore,
        max_orders: int | None = None,
    ) -> None:
        self.conversations = conversations
        self.tickets = tickets
        self.backend = backend
        self.store = store
        # The retention's bound (kefu/config/retention.py) by default, which the conversation store carries.
        self.max_orders = max_orders or conversations.retention.context_max_orders

    async def build(
        self, handoff: Handoff, decision: Decision | None = None, slots: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        transcript = await self.conversations.transcript(handoff.conversation_id)
        ticket = await self.tickets.get(handoff.ticket_id)
        slots = dict(slots or {})
        orders, orders_error = await self._orders(handoff, transcript, slots)
        earlier = []
        if handoff.customer_id:
            earlier = [_ticket_row(t) for t in await self.tickets.list_for(handoff.customer_id)
                       if t.id != handoff.ticket_id]
        trigger = next((e for e in transcript if e.get("id") == handoff.trigger_id), None) or {}
        return {
            "version": PACKET_VERSION,
            "ticket": {
                "id": handoff.ticket_id, "reason": handoff.reason, "priority": handoff.priority,
                "status": ticket.status if ticket else "open", "handoff_status": handoff.status,
                "category": ticket.category if ticket else "",
                "agent": handoff.agent, "team": handoff.team, "created_at": handoff.created_at,
                "trigger": {"id": handoff.trigger_id, "text": handoff.trigger_text,
                            "channel": trigger.get("channel", handoff.channel), "ts": trigger.get("ts")},
                "decision": decision.to_dict() if decision else None,
            },
            "customer": {"customer_id": handoff.customer_id or None, "conversation_id": handoff.conversation_id,
                         "channel": handoff.channel, "lang": handoff.lang},
            "transcript": transcript,
            "slots": slots,
            "orders": orders,
            "orders_error": orders_error,
            "earlier_tickets": earlier,
            "notes": await self.store.notes(notes_subject(handoff)),
        }

    async def _orders(
        self, handoff: Handoff, transcript: list[dict[str, Any]], slots: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], str | None]:
        try:
            if handoff.customer_id:
                found = await self.backend.orders_of(handoff.customer_id, limit=self.max_orders)
            else:
                found = []
                for order_id in _mentioned_orders(transcript, slots, self.max_orders):
                    try:
                        found.append(await self.backend.get_order(order_id))
                    except OrderNotFound:
                        continue
        except BackendUnavailable as error:
            log.warning("context packet for %s: order backend unavailable: %s", handoff.ticket_id, error)
            return [], "unavailable"
        return [order.to_dict() for order in found[:self.max_orders]], None
