"""Everything the service commitments add to a process, built from its shared stores, for the app layer to register:
the webhook's routes, the pipeline's interceptors and observer, the handoff manager's hook, the follow-up listener."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from kefu.channels.linking import Customers
from kefu.commitments.csat import Surveys
from kefu.commitments.late import LateFollowUps
from kefu.commitments.optout import OptOuts
from kefu.commitments.order_updates import OrderUpdates
from kefu.commitments.updates import ProactiveUpdates
from kefu.commitments.webhook import OrderEventsWebhook
from kefu.config.settings import Settings
from kefu.core.conversations import ConversationStore
from kefu.core.delivery import Delivery
from kefu.core.ratings import RatingStore
from kefu.handoff.manager import HandoffManager
from kefu.orders.base import OrderBackend
from kefu.pipeline.pipeline import Interceptor, TurnObserver


class Commitments:
    def __init__(self, settings: Settings, redis: aioredis.Redis, conversations: ConversationStore,
                 delivery: Delivery, customers: Customers, orders: OrderBackend) -> None:
        config = settings.commitments
        self.redis = redis
        self.tz = settings.shop.tz
        self.optouts = OptOuts(redis, conversations, delivery)
        self.updates = ProactiveUpdates(redis, conversations, delivery, customers, config)
        self.orders = OrderUpdates(redis, orders, conversations, self.updates, self.optouts, config, self.tz)
        self.ratings = RatingStore(redis)
        self.surveys = Surveys(redis, conversations, delivery, self.ratings, config)
        self.webhook = OrderEventsWebhook(redis, self.orders, config)
        self.late: LateFollowUps | None = None

    def routes(self) -> list[web.AbstractRouteDef]:
        return self.webhook.routes()

    @property
    def interceptors(self) -> list[Interceptor]:
        """In this order: a stop/start command; what was kept for the customer goes out (never handles the
        message); a survey's answer."""
        return [self.optouts.intercept, self.updates.flush, self.surveys.intercept]

    @property
    def observers(self) -> list[TurnObserver]:
        return [self.surveys.after_turn]

    def attach(self, handoff: HandoffManager) -> None:
        """Once the process's handoff manager exists: the survey after a closed ticket, late follow-ups told."""
        if self.surveys.after_finished not in handoff.on_finished:
            handoff.on_finished.append(self.surveys.after_finished)
        self.late = LateFollowUps(self.redis, self.updates, handoff, self.tz)

    def announcing(self, publish: Callable[[dict[str, Any]], Awaitable[None]]
                   ) -> Callable[[dict[str, Any]], Awaitable[None]]:
        """The follow-up watcher's ``publish``, which also tells the customer about a missed follow-up."""
        async def publish_and_tell(event: dict[str, Any]) -> None:
            await publish(event)
            if self.late is not None:
                await self.late.on_alert(event)

        return publish_and_tell
