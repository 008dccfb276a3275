"""TicketStore against a real Redis: ids, per-customer lists, status updates."""
from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis

from kefu.core.tickets import Ticket, TicketNotFound, TicketStore


async def test_create_numbers_tickets_after_the_reserved_range(redis_client: aioredis.Redis) -> None:
    store = TicketStore(redis_client)
    first = await store.create("c1", "conv-1", "complaint", "high", "太慢了", "web")
    second = await store.create("c1", "conv-2", "handoff", "normal", "找人工", "wechat")
    assert first.id == "T-100901" and second.id == "T-100902"
    stored = json.loads(await redis_client.get("kefu:ticket:T-100901"))
    assert stored["reason"] == "complaint" and stored["status"] == "open" and stored["channel"] == "web"
    assert await redis_client.zrange("kefu:customer:c1:tickets", 0, -1) == ["T-100901", "T-100902"]


async def test_existing_counter_is_respected(redis_client: aioredis.Redis) -> None:
    await redis_client.set("kefu:ticket:counter", 123456)
    ticket = await TicketStore(redis_client).create(None, "conv", "handoff", "normal", "hi", "telegram")
    assert ticket.id == "T-123457"
    assert await redis_client.keys("kefu:customer:*") == []


async def test_get_latest_and_list(redis_client: aioredis.Redis) -> None:
    store = TicketStore(redis_client)
    assert await store.get("T-999999") is None
    assert await store.latest_for("c9") is None and await store.list_for("c9") == []
    a = await store.create("c9", "conv", "complaint", "high", "a", "web")
    b = await store.create("c9", "conv", "complaint", "high", "b", "web")
    await store.create("c8", "conv", "complaint", "high", "other customer", "web")
    assert (await store.latest_for("c9")).id == b.id
    assert [t.id for t in await store.list_for("c9")] == [b.id, a.id]
    assert await store.get(a.id.lower()) == a


async def test_update_status_records_a_note(redis_client: aioredis.Redis) -> None:
    store = TicketStore(redis_client)
    ticket = await store.create("c1", "conv", "complaint", "high", "x", "web")
    assert ticket.last_update == ""
    updated = await store.update_status(ticket.id, "processing", "agent Li is on it")
    assert updated.status == "processing" and updated.last_update == "agent Li is on it"
    again = await store.get(ticket.id)
    assert again is not None and again.status == "processing" and len(again.notes) == 1
    with pytest.raises(TicketNotFound):
        await store.update_status("T-000001", "closed", "nope")
    with pytest.raises(ValueError):
        await store.update_status(ticket.id, "exploded", "nope")


async def test_put_keeps_a_fixed_id_and_round_trips(redis_client: aioredis.Redis) -> None:
    store = TicketStore(redis_client)
    seeded = Ticket(id="T-100871", customer_id="c1001", conversation_id="demo", reason="complaint",
                    priority="high", trigger_text="退款慢", channel="web", status="processing")
    await store.put(seeded)
    assert await store.get("T-100871") == seeded
    fresh = await store.create("c1001", "conv", "complaint", "high", "again", "web")
    assert fresh.id != "T-100871"
    assert next(t.id for t in await store.list_for("c1001")) == fresh.id
