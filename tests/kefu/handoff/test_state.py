"""Handoff state on a real Redis: the priority queue, atomic claims, finishing once."""
from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from kefu.handoff.state import ClaimRefused, Handoff, HandoffStore


def handoff(ticket: str, priority: str, created_at: float, conversation: str | None = None) -> Handoff:
    return Handoff(
        ticket_id=ticket, conversation_id=conversation or f"visitor:{ticket}", customer_id="", channel="web",
        lang="en", reason={"urgent": "safety", "high": "complaint", "normal": "human"}[priority],
        priority=priority, trigger_id="m1", trigger_text="help", created_at=created_at,
    )


async def test_queue_orders_by_priority_then_waiting_time(redis_client: aioredis.Redis) -> None:
    store = HandoffStore(redis_client)
    now = time.time()
    await store.open(handoff("T-1", "normal", now - 600), {})
    await store.open(handoff("T-2", "high", now - 10), {})
    await store.open(handoff("T-3", "urgent", now), {})
    await store.open(handoff("T-4", "high", now - 300), {})
    assert [h.ticket_id for h in await store.queue()] == ["T-3", "T-4", "T-2", "T-1"]
    assert await store.position("T-2") == 3
    held = await store.holding("visitor:T-2")
    assert held is not None and held.status == "waiting" and held.created_at == pytest.approx(now - 10)


async def test_two_agents_claiming_at_once_exactly_one_wins(redis_url: str) -> None:
    clients = [aioredis.Redis.from_url(redis_url, decode_responses=True) for _ in range(2)]
    try:
        stores = [HandoffStore(client) for client in clients]
        await stores[0].open(handoff("T-9", "high", time.time()), {})
        results = await asyncio.gather(
            *(store.claim("T-9", agent) for store, agent in zip(stores, ("ann", "bob"))), return_exceptions=True
        )
        winners = [r for r in results if isinstance(r, Handoff)]
        assert len(winners) == 1 and sum(isinstance(r, ClaimRefused) for r in results) == 1
        stored = await stores[0].get("T-9")
        assert stored is not None and stored.agent == winners[0].agent and stored.status == "assigned"
        assert await stores[0].queue() == []
    finally:
        for client in clients:
            await client.aclose()


async def test_finish_once_and_only_by_the_holder(redis_client: aioredis.Redis) -> None:
    store = HandoffStore(redis_client)
    opened = handoff("T-5", "normal", time.time())
    await store.open(opened, {})
    await store.claim("T-5", "ann")
    with pytest.raises(ClaimRefused):
        await store.finish(opened, "closed", "resolved", agent="bob")
    assert await store.finish(opened, "closed", "resolved", agent="ann")
    assert not await store.finish(opened, "closed", "resolved", agent="ann")
    assert await store.holding(opened.conversation_id) is None
