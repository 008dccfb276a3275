"""Retention of the per-message bookkeeping (issue 9, defect 11): TTLs and bounds, configurable, on the real Redis."""
from __future__ import annotations

import json

import redis.asyncio as aioredis

from kefu.config.retention import RetentionSettings
from kefu.core import keys
from kefu.core.conversations import ConversationStore, Understanding
from kefu.core.deadletter import DeadLetter, DeadLetters
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage

UNDERSTOOD = Understanding(intent="order_status", confidence=0.9, entities=[])


async def test_per_turn_understanding_expires_and_is_bounded(redis_client: aioredis.Redis) -> None:
    retention = RetentionSettings(understanding_ttl_s=3600, understanding_max_turns=10)
    store = ConversationStore(redis_client, retention)
    inbox = Inbox(redis_client, shards=1)
    for number in range(40):
        message = InboundMessage(channel="web", sender="v", conversation_id="visitor:v", text=f"question {number}",
                                 message_id=f"m{number}")
        await inbox.record(message)
        await store.set_understanding("visitor:v", message.message_id, UNDERSTOOD)
    key = keys.understanding("visitor:v")
    assert 0 < await redis_client.ttl(key) <= 3600
    kept = await redis_client.hkeys(key)
    assert len(kept) <= 11 and "m39" in kept and "m0" not in kept
    # What a reader is shown keeps its understanding: the newest turns, within the bound.
    entries = await store.transcript("visitor:v", limit=10)
    assert all(entry["understanding"] == UNDERSTOOD.to_dict() for entry in entries)


async def test_dedupe_keys_expire_after_the_configured_time(redis_client: aioredis.Redis) -> None:
    inbox = Inbox(redis_client, shards=1, seen_ttl_s=600)
    message = InboundMessage(channel="telegram", sender="7", conversation_id="telegram:7", text="hi",
                             message_id="u1")
    assert await inbox.submit(message)
    assert 0 < await redis_client.ttl(keys.seen("telegram", "u1")) <= 600


async def test_the_dead_letter_stream_is_capped(redis_client: aioredis.Redis) -> None:
    letters = DeadLetters(redis_client, max_entries=10)
    for number in range(500):
        await letters.add(DeadLetter(shard=0, entry_id=f"{number}-0", message="{}", error="boom", attempts=4))
    # Trimmed approximately (whole stream nodes of 100 entries), never unbounded.
    assert await redis_client.xlen(keys.DEAD_LETTERS) <= 10 + 100
    newest = (await letters.recent(1))[0]
    assert newest.entry_id == "499-0" and json.loads(newest.message) == {}
