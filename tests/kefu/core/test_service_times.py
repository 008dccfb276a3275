"""Follow-up outcomes for the dashboard: kept by the due time, missed (late or never), or a new time agreed."""
from __future__ import annotations

import redis.asyncio as aioredis

from kefu.core.service_times import first_response, followups_due
from kefu.handoff.followups import FollowUps
from tests.helpers.dashboard_seed import clock


async def outcomes(redis: aioredis.Redis, now: float) -> dict[str, str]:
    return {o.ticket_id: o.state(now) for o in await followups_due(redis, 0, 10_000)}


async def test_kept_missed_pending_and_rescheduled(redis_client: aioredis.Redis) -> None:
    followups = FollowUps(redis_client)
    with clock(100.0):
        for ticket, due in [("T-1", 1000.0), ("T-2", 1000.0), ("T-3", 1000.0), ("T-4", 5000.0), ("T-5", 1000.0)]:
            await followups.promise(ticket, due, "call back", "ann")
    with clock(900.0):
        assert await followups.kept("T-1")  # in time
        await followups.promise("T-5", 3000.0, "call back later", "ann")  # a new time agreed before the due time
    with clock(1500.0):
        assert await followups.kept("T-2")  # late
    assert await outcomes(redis_client, now=2000.0) == {"T-1": "kept", "T-2": "missed", "T-3": "missed",
                                                        "T-4": "pending", "T-5": "pending"}
    with clock(4000.0):
        await followups.promise("T-5", 4500.0, "again", "ann")  # moved after it was already missed
    assert (await outcomes(redis_client, now=4600.0))["T-5"] == "missed"
    assert [o.due_at for o in await followups_due(redis_client, 0, 10_000) if o.ticket_id == "T-5"] == [3000.0,
                                                                                                           4500.0]


async def test_only_the_first_response_counts(redis_client: aioredis.Redis) -> None:
    assert await first_response(redis_client, "T-9", 10.0)
    assert not await first_response(redis_client, "T-9", 20.0)
    assert await redis_client.hget("kefu:handoff:t:T-9", "first_response_at") == "10.0"
