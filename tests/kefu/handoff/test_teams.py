"""Team routing: the rule itself, and putting a held handoff back in the queue on a real Redis."""
from __future__ import annotations

import time

import pytest
import redis.asyncio as aioredis

from kefu.handoff.state import ClaimRefused, HandoffStore
from kefu.handoff.teams import online_teams, routed_to
from tests.kefu.handoff.test_state import handoff


def test_a_team_item_waits_for_its_team_while_one_member_is_online() -> None:
    presence = {"sam": {"status": "online", "team": "safety"}, "ann": {"status": "away", "team": "general"},
                "old": {"status": "online"}}
    online = online_teams(presence)
    assert online == {"safety", "general"}  # entries without a team count as "general"
    assert routed_to("safety", "safety", online) and not routed_to("safety", "general", online)
    assert routed_to("", "general", online) and routed_to("fraud", "general", online)  # nobody of fraud online


async def test_requeue_only_by_the_holder_and_at_the_original_place(redis_client: aioredis.Redis) -> None:
    store = HandoffStore(redis_client)
    now = time.time()
    first, second = handoff("T-1", "high", now - 60), handoff("T-2", "high", now)
    await store.open(first, {})
    await store.open(second, {})
    await store.claim("T-1", "ann")
    with pytest.raises(ClaimRefused):
        await store.requeue(first, "safety", agent="bob")
    queued = await store.requeue(first, "safety", agent="ann")
    assert (queued.status, queued.agent, queued.team) == ("waiting", "", "safety")
    stored = await store.get("T-1")
    assert stored is not None and (stored.status, stored.agent, stored.team) == ("waiting", "", "safety")
    assert [h.ticket_id for h in await store.queue()] == ["T-1", "T-2"]
    assert (await store.holding(first.conversation_id)) is not None  # still held by people, not the bot
    assert await store.finish(stored, "closed", "resolved")
    with pytest.raises(ClaimRefused):
        await store.requeue(stored, "general")  # no longer active
