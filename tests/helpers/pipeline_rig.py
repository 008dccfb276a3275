"""A real pipeline on the real Redis, with the real handoff manager; Rasa is the live stack's (``live_rasa``)
unless a test brings its own. Replies are recorded by the real Delivery (transcript first) over recording senders."""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.config.outage import OutageSettings
from kefu.config.retention import RetentionSettings
from kefu.config.settings import Settings
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage, OutboundMessage
from kefu.dialogue.rasa_client import RasaClient
from kefu.handoff.manager import HandoffManager
from kefu.orders.demo import DemoOrderBackend
from kefu.pipeline.pipeline import Interceptor, Pipeline, TurnObserver
from tests.helpers.delivery import recording_delivery
from tests.helpers.settings import ALWAYS_OPEN


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class Rig:
    redis: aioredis.Redis
    pipeline: Pipeline
    manager: HandoffManager
    inbox: Inbox
    told: list[OutboundMessage]

    async def say(self, text: str, conversation_id: str | None = None, **fields: Any) -> InboundMessage:
        conversation_id = conversation_id or f"visitor:{uuid.uuid4().hex[:8]}"
        message = InboundMessage(channel="web", sender=conversation_id.split(":")[-1],
                                 conversation_id=conversation_id, text=text, **fields)
        assert await self.inbox.submit(message)
        return message

    def to(self, conversation_id: str, role: str | None = None) -> list[OutboundMessage]:
        return [m for m in self.told if m.conversation_id == conversation_id and (role is None or m.role == role)]

    async def answered(self, conversation_id: str, timeout: float = 60) -> list[OutboundMessage]:
        async def bot_replies() -> list[OutboundMessage]:
            return self.to(conversation_id, "bot")
        return await eventually(bot_replies, timeout, f"the bot's answer to {conversation_id}")


@contextlib.asynccontextmanager
async def running_pipeline(
    redis: aioredis.Redis, rasa: Any, *, shards: int = 1, observers: Sequence[TurnObserver] = (),
    interceptors: Sequence[Interceptor] = (), retention: RetentionSettings | None = None,
    delivery_and_told: tuple[Any, list[OutboundMessage]] | None = None, outage: OutageSettings | None = None,
) -> AsyncIterator[Rig]:
    delivery, told = delivery_and_told or recording_delivery(redis)
    manager = HandoffManager(redis, rasa, DemoOrderBackend(redis), ALWAYS_OPEN, delivery)
    extra: dict[str, Any] = {"retention": retention} if retention is not None else {}
    if outage is not None:
        extra["outage"] = outage
    pipeline = Pipeline(redis, rasa, delivery, shards, handoff=manager, observers=observers,
                        interceptors=interceptors, **extra)
    task = asyncio.create_task(pipeline.run())
    try:
        yield Rig(redis, pipeline, manager, Inbox(redis, shards), told)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def live_rasa(stack_settings: Settings) -> AsyncIterator[RasaClient]:
    """A client of the live stack's Rasa (Redis emptied, demo orders loaded)."""
    async with aiohttp.ClientSession() as http:
        yield RasaClient(http, stack_settings.rasa_url, stack_settings.rasa_token)


async def tracker_events(redis: aioredis.Redis, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's events as Rasa stored them (its tracker store in Redis, endpoints.yml)."""
    raw = await redis.get(f"kefurasa:tracker:{conversation_id}")
    return json.loads(raw)["events"] if raw else []


async def rasa_paused(redis: aioredis.Redis, conversation_id: str) -> bool:
    """Whether Rasa's tracker is paused: its last pause or resume event says."""
    control = [e["event"] for e in await tracker_events(redis, conversation_id) if e["event"] in {"pause", "resume"}]
    return bool(control) and control[-1] == "pause"


async def user_turns(redis: aioredis.Redis, conversation_id: str) -> list[dict[str, Any]]:
    return [event for event in await tracker_events(redis, conversation_id) if event["event"] == "user"]
