"""Several Rasa processes behind one client (kefu/dialogue/rasa_pool.py): a conversation keeps to its process
while it is no busier than another, and when that one does not answer the next one does, once per turn, with the
real Rasa behind it."""
from __future__ import annotations

import asyncio
import uuid
import zlib

import aiohttp
import pytest
import redis.asyncio as aioredis

from kefu.config.settings import Settings
from kefu.dialogue.rasa_client import RasaClient, RasaUnavailable
from kefu.dialogue.rasa_pool import RasaPool
from kefu.ops.stack import free_port
from tests.helpers.pipeline_rig import rasa_paused, user_turns


def routed_to(index: int, size: int) -> str:
    """A conversation id the pool sends to process ``index`` first."""
    while True:
        conversation = f"visitor:{uuid.uuid4().hex}"
        if zlib.crc32(conversation.encode()) % size == index:
            return conversation


def dead(http: aiohttp.ClientSession) -> RasaClient:
    return RasaClient(http, f"http://127.0.0.1:{free_port()}", "token", timeout_s=1)


async def test_a_conversation_whose_process_is_down_is_answered_by_the_next(
    stack_settings: Settings, redis_client: aioredis.Redis,
) -> None:
    async with aiohttp.ClientSession() as http:
        live = RasaClient(http, stack_settings.rasa_url, stack_settings.rasa_token)
        pool = RasaPool([dead(http), live])
        conversation = routed_to(0, 2)
        assert pool.for_conversation(conversation) is not live
        turn = await pool.handle(conversation, "运费怎么算", {"idempotency_key": uuid.uuid4().hex})
        assert turn.replies and turn.understanding.intent == "policy"
        assert len(await user_turns(redis_client, conversation)) == 1  # answered once, by the live process
        await pool.pause(conversation)
        assert await rasa_paused(redis_client, conversation)
        await pool.resume(conversation)
        assert not await rasa_paused(redis_client, conversation)
        assert (await pool.parse("运费怎么算")).intent == "policy"


async def test_with_every_process_down_the_outage_is_reported() -> None:
    async with aiohttp.ClientSession() as http:
        pool = RasaPool([dead(http), dead(http)])
        with pytest.raises(RasaUnavailable):
            await pool.handle(routed_to(1, 2), "hello", {})
        assert not await pool.is_ready()


def test_each_conversation_keeps_to_one_process_and_they_share_the_load() -> None:
    pool = RasaPool([RasaClient(None, f"http://127.0.0.1:{port}", "t") for port in (1, 2, 3)])  # type: ignore[arg-type]
    conversations = [f"cust:c{n}" for n in range(300)]
    first = [pool.for_conversation(c) for c in conversations]
    assert first == [pool.for_conversation(c) for c in conversations]
    assert all(60 <= sum(1 for client in first if client is c) <= 140 for c in pool.clients)


class HeldRasa:
    """A Rasa process that answers a turn only when told to: what it was asked, by conversation."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.answer = asyncio.Event()

    async def handle(self, conversation_id: str, text: str, metadata: dict) -> str:
        self.asked.append(conversation_id)
        await self.answer.wait()
        return text


async def test_a_turn_goes_to_an_idle_process_rather_than_wait_behind_another_conversations() -> None:
    first, second = HeldRasa(), HeldRasa()
    pool = RasaPool([first, second])  # type: ignore[list-item]
    mine, also_mine, theirs = routed_to(0, 2), routed_to(0, 2), routed_to(1, 2)
    busy = asyncio.create_task(pool.handle(mine, "运费怎么算", {}))
    await asyncio.sleep(0)
    moved = asyncio.create_task(pool.handle(also_mine, "发票怎么开", {}))  # its own process is answering another
    await asyncio.sleep(0)
    assert (first.asked, second.asked) == ([mine], [also_mine])
    first.answer.set()
    second.answer.set()
    assert await asyncio.gather(busy, moved) == ["运费怎么算", "发票怎么开"]
    # Nothing in flight: every conversation goes to its own process again.
    await pool.handle(theirs, "hi", {})
    await pool.handle(also_mine, "hi", {})
    assert (first.asked[-1], second.asked[-1]) == (also_mine, theirs)
