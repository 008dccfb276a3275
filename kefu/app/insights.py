"""What the dashboard, quality review and ``/metrics`` learn as conversations happen, registered on a process's
services: after every answered turn (a pipeline observer), every processed message (``on_processed``) and every
finished handoff (``HandoffManager.on_finished``).
"""
from __future__ import annotations

import asyncio
import random
import time
from typing import Protocol

import redis.asyncio as aioredis

from kefu.app.metrics import keep_reporting
from kefu.config.settings import Settings
from kefu.core import metrics
from kefu.core.conversations import ConversationStore
from kefu.core.messages import InboundMessage
from kefu.core.reviews import QAQueue
from kefu.core.visits import Visits
from kefu.dialogue.rasa_client import RasaTurn
from kefu.handoff.decision import Decision
from kefu.handoff.manager import WITHDRAWN, HandoffManager
from kefu.handoff.state import Handoff
from kefu.pipeline.outage import BOT_AGENT
from kefu.pipeline.pipeline import ProcessedHook, TurnObserver


class Running(Protocol):
    """What a running process's services offer the recording (kefu/app/services.py ``Services``)."""

    redis: aioredis.Redis
    conversations: ConversationStore
    settings: Settings
    observers: list[TurnObserver]
    handoff: HandoffManager


# The customer closing the exchange themselves: a bot conversation that ended well, or at least ended.
CLOSING_INTENTS = frozenset({"thank", "goodbye"})
CLOSING_CONFIDENCE = 0.6


class Insights:
    def __init__(self, services: Running, rng: random.Random | None = None) -> None:
        self.conversations = services.conversations
        self.visits = Visits(services.redis)
        self.qa = QAQueue(services.redis, services.settings.service_levels.qa_share, rng)

    async def turn(self, message: InboundMessage, turn: RasaTurn, decision: Decision | None) -> None:
        """An answered turn: its latency, a handoff it opened, its exchange; a bot exchange the customer closed
        is drawn for quality review."""
        metrics.REPLY_LATENCY.labels(message.channel).observe(max(0.0, time.time() - message.received_at))
        handoff = decision is not None and decision.handoff
        if handoff:
            metrics.HANDOFFS.labels(decision.reason or "").inc()
        understanding = turn.understanding
        closing = (not handoff and understanding.intent in CLOSING_INTENTS
                   and (understanding.confidence or 0.0) >= CLOSING_CONFIDENCE)
        conversation_id = await self.conversations.live_id(message.conversation_id)
        visit = await self.visits.turn(conversation_id, message.channel, message.received_at, handoff=handoff,
                                       ended=closing)
        if closing and visit.bot_resolved:
            await self.qa.consider(visit.id, "bot", conversation_id, "", "", message.channel, visit.started_at,
                                   time.time())

    async def finished(self, handoff: Handoff) -> None:
        """A handoff closed or handed back: drawn for quality review like any finished conversation (not one
        the bot took back itself after a Rasa outage, nor a request the customer withdrew: no person answered it)."""
        if handoff.agent == BOT_AGENT or handoff.resolution == WITHDRAWN:
            return
        await self.qa.consider(handoff.ticket_id, "agent", handoff.conversation_id, handoff.ticket_id,
                               handoff.agent, handoff.channel, handoff.created_at, handoff.finished_at or time.time())


def counted(hook: ProcessedHook | None) -> ProcessedHook:
    """``hook`` (may be None), after counting the message in: held and intercepted messages count too."""
    async def processed(message: InboundMessage, turn: RasaTurn) -> None:
        metrics.MESSAGES_IN.labels(message.channel).inc()
        if hook is not None:
            await hook(message, turn)
    return processed


def register(services: Running) -> asyncio.Task[None]:
    """Hook the recording into a running process's pipeline and handoff manager; returns the task that leaves
    this process's counters in Redis for ``/metrics`` (cancel it when the process stops)."""
    insights = Insights(services)
    services.observers.append(insights.turn)
    services.handoff.on_finished.append(insights.finished)
    return asyncio.create_task(keep_reporting(services.redis), name="kefu-metrics")
