"""What a Kefu process shares, built once from settings: the gateway and the worker (and the eval) each open one.

The stores and the channels' senders exist as soon as the container is built (redis-py connects lazily), so a
gateway can register its routes before its event loop runs; the HTTP session, the Rasa client and the handoff
manager are opened by ``running()`` and closed when it ends, in reverse order.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import redis.asyncio as aioredis

from kefu.app import insights
from kefu.channels import factory
from kefu.channels.base import ChannelSender
from kefu.channels.intake import Intake
from kefu.channels.linking import Customers
from kefu.commitments.wiring import Commitments
from kefu.config.settings import Settings
from kefu.core.conversations import ConversationStore
from kefu.core.delivery import Delivery
from kefu.core.inbox import Inbox
from kefu.core.tasks import cancel_and_wait
from kefu.dialogue.rasa_pool import RasaPool
from kefu.handoff.followups import watch as watch_followups
from kefu.handoff.manager import HandoffManager
from kefu.orders import OrderBackend, create_backend
from kefu.pipeline.pipeline import Interceptor, Pipeline, ProcessedHook, TurnObserver


@dataclass
class Services:
    settings: Settings
    redis: aioredis.Redis
    conversations: ConversationStore
    inbox: Inbox
    intake: Intake
    orders: OrderBackend
    customers: Customers
    senders: dict[str, ChannelSender]
    delivery: Delivery
    # Opened by running():
    http: aiohttp.ClientSession = field(init=False)
    rasa: RasaPool = field(init=False)
    handoff: HandoffManager = field(init=False)
    # Pipeline extensions registered by the features above the pipeline (kefu/pipeline/pipeline.py explains).
    interceptors: list[Interceptor] = field(default_factory=list)
    observers: list[TurnObserver] = field(default_factory=list)
    # Proactive updates and CSAT (kefu/commitments), built with the stores: the webhook's routes exist before the
    # event loop runs; its pipeline and handoff hooks are registered by running().
    commitments: Commitments = field(init=False)

    def __post_init__(self) -> None:
        self.commitments = Commitments(self.settings, self.redis, self.conversations, self.delivery, self.customers,
                                       self.orders)

    @classmethod
    def build(cls, settings: Settings, senders: dict[str, ChannelSender] | None = None) -> Services:
        """``senders`` replaces the configured channels' (the eval collects replies instead of sending them)."""
        # After a Redis restart every pooled connection is dead and fails once: redis-py retries such a command on
        # a fresh connection only when asked to (a sign-in right after a restart was a 500 without this).
        redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True, health_check_interval=10,
                                        retry_on_error=[aioredis.ConnectionError])
        conversations = ConversationStore(redis, settings.retention)
        inbox = Inbox(redis, settings.shards, settings.retention.seen_ttl_s)
        # Linking a channel user to a customer checks an order: the same backend the actions use.
        orders = create_backend(settings.orders, redis)
        customers = Customers(redis, orders)
        if senders is None:
            senders = factory.senders(settings, redis, conversations, customers)
        return cls(
            settings=settings, redis=redis, conversations=conversations, inbox=inbox,
            intake=Intake(inbox, conversations, settings.max_message_chars), orders=orders, customers=customers,
            senders=senders, delivery=Delivery(conversations, senders),
        )

    def pipeline(self, on_processed: ProcessedHook | None = None) -> Pipeline:
        """The pipeline on these services (only once ``running``): the worker's, or a gateway's without workers."""
        return Pipeline(self.redis, self.rasa, self.delivery, self.settings.shards,
                        on_processed=insights.counted(on_processed),
                        handoff=self.handoff, interceptors=self.interceptors, observers=self.observers,
                        retention=self.settings.retention, outage=self.settings.outage)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Services]:
        """Open the clients and the handoff manager; every process also watches promised follow-ups (an alert
        is claimed in Redis, so it is raised once however many run)."""
        settings = self.settings
        self.http = aiohttp.ClientSession()
        self.rasa = RasaPool.connect(self.http, settings.rasa_urls, settings.rasa_token, settings.rasa_timeout_s)
        self.handoff = HandoffManager(self.redis, self.rasa, self.orders, settings.handoff, self.delivery,
                                      http=self.http)
        for sender in self.senders.values():
            await sender.start()
        self.commitments.attach(self.handoff)
        # QA sampling, the dashboard's records and /metrics' counters (kefu/app/insights.py).
        reporter = insights.register(self)
        self.interceptors.extend(i for i in self.commitments.interceptors if i not in self.interceptors)
        self.observers.extend(o for o in self.commitments.observers if o not in self.observers)
        # A missed follow-up alerts the agents and is owned up to the customer (kefu/commitments/late.py).
        watcher = asyncio.create_task(watch_followups(self.handoff.followups,
                                                      self.commitments.announcing(self.handoff.store.publish)),
                                      name="kefu-followups")
        snoozes = asyncio.create_task(self.handoff.watch_snoozed(), name="kefu-snoozed")  # wakes are claimed in Redis
        try:
            yield self
        finally:
            for task in (watcher, snoozes, reporter):
                await cancel_and_wait(task)  # redis-py can lose a single cancel (kefu/core/tasks.py)
            for sender in reversed(self.senders.values()):
                await sender.stop()
            await self.orders.close()
            await self.http.close()
            await self.redis.aclose()
