"""Conversation store on a real Redis: merging one conversation's history into another, then following it."""
from __future__ import annotations

import asyncio
import json
from collections import Counter

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.conversations import ConversationStore, Understanding
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage, OutboundMessage

OLD, CUSTOMER = "telegram:7301", "cust:c1001"


async def said(inbox: Inbox, conversation_id: str, text: str, ts: float, channel: str = "telegram") -> str:
    """A customer turn stored as the connectors store it (dedupe, transcript, record, in one step)."""
    message = InboundMessage(channel=channel, sender="u", conversation_id=conversation_id, text=text,
                             message_id=f"{channel}-{text}", received_at=ts)
    assert await inbox.record(message)
    return message.message_id


def texts(transcript: list[dict]) -> list[str]:
    return [entry["text"] for entry in transcript]


async def test_merge_interleaves_both_histories_by_time_and_leaves_a_pointer(
    redis_client: aioredis.Redis,
) -> None:
    store, inbox = ConversationStore(redis_client), Inbox(redis_client, shards=2)
    await said(inbox, CUSTOMER, "wechat 1", 100.0, "wechat")
    asked = await said(inbox, OLD, "telegram 2", 200.0)
    await store.set_understanding(OLD, asked, Understanding("order_status", 0.9, []))
    await store.mark_undelivered(OLD, "bot-3", "blocked_by_user")
    await store.add_reply(OutboundMessage(OLD, "telegram 3", message_id="bot-3", sent_at=300.0), "telegram")
    await said(inbox, CUSTOMER, "wechat 4", 400.0, "wechat")
    await said(inbox, OLD, "telegram 5", 500.0)
    await store.set_language(OLD, "en")

    assert await store.merge(OLD, CUSTOMER, "c1001") == 3

    merged = await store.transcript(CUSTOMER)
    assert texts(merged) == ["wechat 1", "telegram 2", "telegram 3", "wechat 4", "telegram 5"]
    assert [e["ts"] for e in merged] == sorted(e["ts"] for e in merged)
    assert merged[1]["understanding"]["intent"] == "order_status"  # what the bot understood moved too
    assert merged[2]["undelivered"] == "blocked_by_user"
    # The old id reads the merged history; its record says where it went.
    assert await store.transcript(OLD) == merged
    old_record, record = await store.record(OLD), await store.record(CUSTOMER)
    assert old_record["merged_into"] == CUSTOMER and old_record["customer_id"] == "c1001"
    assert (record["customer_id"], record["lang"], float(record["created_at"])) == ("c1001", "en", 100.0)
    assert await redis_client.exists(keys.transcript(OLD)) == 0


async def test_merging_again_never_duplicates_and_sweeps_in_late_entries(
    redis_client: aioredis.Redis,
) -> None:
    store, inbox = ConversationStore(redis_client), Inbox(redis_client, shards=2)
    await said(inbox, OLD, "before", 100.0)
    await said(inbox, CUSTOMER, "other channel", 150.0, "wechat")
    assert await store.merge(OLD, CUSTOMER, "c1001") == 1
    assert await store.merge(OLD, CUSTOMER, "c1001") == 0
    assert texts(await store.transcript(CUSTOMER)) == ["before", "other channel"]

    # A message resolved to the old id just before the link is stored there after the merge...
    await said(inbox, OLD, "late", 120.0)
    # ...and an entry that is already in the target (a half-finished earlier run) is not added twice.
    first = (await redis_client.lrange(keys.transcript(CUSTOMER), 0, 0))[0]
    await redis_client.rpush(keys.transcript(OLD), first)
    assert await store.merge(OLD, CUSTOMER, "c1001") == 1
    assert texts(await store.transcript(CUSTOMER)) == ["before", "late", "other channel"]


async def test_a_reply_for_the_old_id_joins_the_merged_history(redis_client: aioredis.Redis) -> None:
    """The pipeline answers a message queued before the link under the old id: the answer is not lost."""
    store, inbox = ConversationStore(redis_client), Inbox(redis_client, shards=2)
    await said(inbox, OLD, "hello", 100.0)
    await store.merge(OLD, CUSTOMER, "c1001")
    late = await said(inbox, OLD, "late question", 110.0)
    await store.set_understanding(OLD, late, Understanding("greet", 0.8, []))
    await store.add_reply(OutboundMessage(OLD, "the answer", sent_at=111.0), "telegram")

    merged = await store.transcript(CUSTOMER)
    assert texts(merged) == ["hello", "late question", "the answer"]
    assert merged[1]["understanding"]["intent"] == "greet"
    assert await redis_client.exists(keys.transcript(OLD)) == 0


async def test_history_never_moves_on_to_a_second_conversation(redis_client: aioredis.Redis) -> None:
    store, inbox = ConversationStore(redis_client), Inbox(redis_client, shards=2)
    await said(inbox, OLD, "mine", 100.0)
    await store.merge(OLD, CUSTOMER, "c1001")
    await said(inbox, OLD, "late", 101.0)
    assert await store.merge(OLD, "cust:c1002", "c1002") is None
    assert await store.transcript("cust:c1002") == []
    assert (await store.record(OLD))["merged_into"] == CUSTOMER
    assert await store.merge(OLD, CUSTOMER, "c1001") == 1


async def test_messages_stored_during_the_merge_are_neither_lost_nor_doubled(redis_url: str) -> None:
    """Writers on their own connections keep storing to both conversations while the merge runs."""
    clients = [aioredis.Redis.from_url(redis_url, decode_responses=True) for _ in range(3)]
    try:
        inboxes = [Inbox(client, shards=2) for client in clients[:2]]
        store = ConversationStore(clients[2])
        sent: list[str] = []
        moved: list[int | None] = []

        async def write(inbox: Inbox, conversation_id: str, prefix: str) -> None:
            for n in range(200):
                sent.append(await said(inbox, conversation_id, f"{prefix}{n}", 1000.0 + n))

        async def merge_meanwhile() -> None:
            while len(sent) < 100:
                await asyncio.sleep(0)
            moved.append(await store.merge(OLD, CUSTOMER, "c1001"))

        await asyncio.gather(write(inboxes[0], OLD, "t"), write(inboxes[1], CUSTOMER, "w"), merge_meanwhile())
        moved.append(await store.merge(OLD, CUSTOMER, "c1001"))  # sweeps in what reached the old id since
        assert moved[0] and moved[1], moved  # the merge really ran while messages were being stored
        assert moved[0] + moved[1] == 200

        entries = await clients[2].lrange(keys.transcript(CUSTOMER), 0, -1)
        stored = Counter(json.loads(raw)["id"] for raw in entries)
        assert set(stored) == set(sent) and max(stored.values()) == 1
        assert await clients[2].hget(keys.conversation(OLD), "merged_into") == CUSTOMER
    finally:
        for client in clients:
            await client.aclose()
