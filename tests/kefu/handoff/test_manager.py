"""The handoff manager's conversation signals look at the current exchange, not at last week's."""
from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.config.handoff import HandoffSettings
from kefu.core.conversations import Understanding
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage
from kefu.dialogue.rasa_client import RasaClient, RasaTurn
from kefu.handoff.manager import HandoffManager
from kefu.ops.stack import free_port
from kefu.orders.demo import DemoOrderBackend
from tests.helpers.delivery import recording_delivery

QUESTION = "where is my parcel DD20261104005"
TRACKING = RasaTurn(replies=[], understanding=Understanding(intent="order_status", confidence=0.95, entities=[]))


@pytest.fixture
async def manager(redis_client: aioredis.Redis) -> AsyncIterator[HandoffManager]:
    async with aiohttp.ClientSession() as http:  # Rasa is not running: pausing its tracker is only logged
        rasa = RasaClient(http, f"http://127.0.0.1:{free_port()}", "token", timeout_s=1)
        delivery, _ = recording_delivery(redis_client)
        manager = HandoffManager(redis_client, rasa, DemoOrderBackend(redis_client), HandoffSettings(), delivery)
        yield manager


async def _asked(redis: aioredis.Redis, message_id: str, seconds_ago: float) -> InboundMessage:
    message = InboundMessage(channel="web", sender="c1002", conversation_id="cust:c1002", text=QUESTION,
                             message_id=message_id, customer_id="c1002", received_at=time.time() - seconds_ago)
    assert await Inbox(redis, shards=2).submit(message)
    return message


async def test_asking_again_the_next_day_is_checking_on_the_order_not_being_stuck(
    manager: HandoffManager, redis_client: aioredis.Redis
) -> None:
    await _asked(redis_client, "yesterday", 24 * 3600)
    today = await _asked(redis_client, "today", 0)
    assert not (await manager.after(today, TRACKING)).handoff


async def test_the_same_question_again_within_minutes_hands_off(
    manager: HandoffManager, redis_client: aioredis.Redis
) -> None:
    await _asked(redis_client, "first", 120)
    again = await _asked(redis_client, "again", 0)
    decision = await manager.after(again, TRACKING)
    assert decision.handoff and decision.reason == "human"
