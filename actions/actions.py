"""The custom actions named in domain.yml: each one names the topic it answers, KefuAction does the rest."""
from __future__ import annotations

from actions import topic_aftersales, topic_dialogue, topic_info, topic_orders  # noqa: F401 - register topics
from actions.base import KefuAction


class ActionSmalltalk(KefuAction):
    topic = "smalltalk"


class ActionAffirm(KefuAction):
    topic = "affirm"


class ActionDeny(KefuAction):
    topic = "deny"


class ActionInform(KefuAction):
    topic = "inform"


class ActionOrderStatus(KefuAction):
    topic = "order_status"


class ActionCancelOrder(KefuAction):
    topic = "cancel_order"


class ActionChangeAddress(KefuAction):
    topic = "change_address"


class ActionRefund(KefuAction):
    topic = "refund"


class ActionReturnExchange(KefuAction):
    topic = "return_exchange"


class ActionInvoice(KefuAction):
    topic = "invoice"


class ActionTicketStatus(KefuAction):
    topic = "ticket_status"


class ActionPolicy(KefuAction):
    topic = "policy"


class ActionHandoff(KefuAction):
    topic = "handoff"


class ActionOutOfScope(KefuAction):
    topic = "out_of_scope"


class ActionFallback(KefuAction):
    topic = "fallback"
