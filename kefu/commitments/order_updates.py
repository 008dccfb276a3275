"""An order event becomes one message to the order's customer, in their language, at most once per event id.

The shop's webhook (webhook.py) and the demo (``python -m kefu demo-event``) both come through ``handle``.
The event id is claimed in Redis before anything is sent and released again if sending fails, so a redelivered
event is acknowledged as a duplicate and never sent twice, while a failed one can be sent again.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from kefu.commitments.events import OrderEvent
from kefu.commitments.optout import OptOuts, stop_button
from kefu.commitments.updates import ProactiveUpdates, Update
from kefu.config.commitments import CommitmentSettings
from kefu.core import keys
from kefu.core.conversations import ConversationStore
from kefu.core.i18n import has, normalise_lang, t
from kefu.core.identity import customer_conversation
from kefu.orders.base import Order, OrderBackend


class OrderUpdates:
    def __init__(self, redis: aioredis.Redis, orders: OrderBackend, conversations: ConversationStore,
                 updates: ProactiveUpdates, optouts: OptOuts, settings: CommitmentSettings, tz: ZoneInfo,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.orders = orders
        self.conversations = conversations
        self.updates = updates
        self.optouts = optouts
        self.settings = settings
        self.tz = tz
        self.clock = clock

    async def handle(self, event: OrderEvent) -> str:
        """``sent``, ``kept``, ``opted_out`` or ``duplicate``. Raises OrderNotFound / BackendUnavailable before
        anything is claimed or sent."""
        order = await self.orders.get_order(event.order_id)
        seen = keys.order_event_seen(event.id)
        if not await self.redis.set(seen, json.dumps({"status": "processing"}), nx=True,
                                    ex=self.settings.order_events_ttl_s):
            return "duplicate"
        try:
            status = await self._tell(event, order)
        except BaseException:
            await self.redis.delete(seen)  # nothing reached the customer: the shop's retry may send it
            raise
        await self.redis.set(seen, json.dumps({"status": status, "order_id": order.id, "at": self.clock()}),
                             ex=self.settings.order_events_ttl_s)
        return status

    async def _tell(self, event: OrderEvent, order: Order) -> str:
        conversation_id = await self.conversations.live_id(customer_conversation(order.customer_id))
        if await self.optouts.opted_out(conversation_id):
            return "opted_out"
        lang = normalise_lang((await self.conversations.record(conversation_id)).get("lang"))
        text = self.compose(event, order, lang)
        return await self.updates.send(Update(conversation_id, text, "order", (stop_button(lang),)))

    def compose(self, event: OrderEvent, order: Order, lang: str) -> str:
        """The customer's message for this event (kefu/core/locales: ``commitments.update.*``)."""
        item = order.items[0].name(lang) if order.items else order.id
        fields: dict[str, object] = {"order": order.id, "item": item}
        key = event.type
        if event.type == "shipped":
            carrier = event.data.get("carrier") or order.carrier
            tracking = event.data.get("tracking_no") or order.tracking_no
            if carrier and tracking:
                fields |= {"carrier": t(f"label.carrier.{carrier}", lang) if has(f"label.carrier.{carrier}")
                           else carrier, "tracking": tracking}
            else:
                key = "shipped_untracked"
        elif event.type == "delayed":
            fields["promised"] = self._when(order.promised_by, lang) if order.promised_by else \
                t("commitments.update.promised_unknown", lang)
            expected = event.data.get("expected_by")
            if expected:
                key, fields["expected"] = "delayed_expected", self._when(datetime.fromisoformat(expected), lang)
        elif event.type == "refund_completed":
            fields["amount"] = t("format.money", lang, amount=float(event.data.get("amount", order.total)))
        return t(f"commitments.update.{key}", lang, **fields)

    def _when(self, moment: datetime, lang: str) -> str:
        return t("format.datetime", lang, dt=moment.astimezone(self.tz))
