"""Handoffs opened the way the pipeline opens them (the real HandoffManager.open, demo orders in Redis), for
the console's API tests: their packets hold real orders with phones, so search and the sidebar have data."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.config.handoff import HandoffSettings
from kefu.core.conversations import Understanding
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage
from kefu.dialogue.rasa_client import RasaClient
from kefu.handoff.decision import Decision
from kefu.handoff.manager import HandoffManager
from kefu.handoff.state import Handoff
from kefu.ops.stack import free_port
from kefu.orders.demo import DemoOrderBackend, seed_demo
from tests.helpers.delivery import recording_delivery
from tests.helpers.settings import ALWAYS_OPEN

PRIORITIES = {"safety": "urgent", "complaint": "high", "human": "normal"}


@pytest.fixture
async def manager(redis_client: aioredis.Redis) -> AsyncIterator[HandoffManager]:
    """A manager on the test's Redis with the demo orders; Rasa is not running (pausing is only logged)."""
    await seed_demo(redis_client)
    async with aiohttp.ClientSession() as http:
        rasa = RasaClient(http, f"http://127.0.0.1:{free_port()}", "token", timeout_s=1)
        delivery, _ = recording_delivery(redis_client)
        yield HandoffManager(redis_client, rasa, DemoOrderBackend(redis_client), ALWAYS_OPEN, delivery, http=http)


def manager_with(manager: HandoffManager, settings: HandoffSettings) -> HandoffManager:
    """The same clients under other handoff settings (hours, pager)."""
    return HandoffManager(manager.redis, manager.rasa, manager.context.backend, settings, manager.delivery,
                          http=manager.http)


def said(conversation_id: str, text: str, customer_id: str | None = None, channel: str = "web") -> InboundMessage:
    return InboundMessage(channel=channel, sender=customer_id or conversation_id, conversation_id=conversation_id,
                          text=text, message_id=uuid.uuid4().hex, customer_id=customer_id)


INTENTS = {"safety": "safety_issue", "complaint": "complaint", "human": "request_human"}


async def opened(manager: HandoffManager, conversation_id: str, text: str, reason: str = "complaint",
                 customer_id: str | None = None, slots: dict | None = None) -> Handoff:
    """The customer's message is taken in and understood (as the pipeline records Rasa's reading), then the
    manager opens a handoff for it."""
    message = said(conversation_id, text, customer_id)
    assert await Inbox(manager.redis, shards=2).submit(message)
    entities = [{"entity": "order_id", "value": slots["order_id"]}] if slots and slots.get("order_id") else []
    await manager.conversations.set_understanding(
        conversation_id, message.message_id, Understanding(INTENTS[reason], 0.97, entities))
    await manager.open(message, Decision("handoff", reason, PRIORITIES[reason], "lexicon"), slots or {})
    handoff = await manager.store.holding(conversation_id)
    assert handoff is not None
    return handoff
