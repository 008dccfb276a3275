"""The inbox states the manager keeps: a snooze is woken once however many processes watch, and a customer's
message brings a pending or snoozed conversation back."""
from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from kefu.handoff.manager import HandoffError, HandoffManager
from kefu.handoff.state import ClaimRefused, HandoffStore
from tests.kefu.console.rig import manager, opened, said  # noqa: F401  (fixture)


async def test_a_snooze_is_woken_exactly_once_by_several_processes(
    manager: HandoffManager, redis_url: str  # noqa: F811
) -> None:
    handoff = await opened(manager, "cust:c1001", "我要投诉", customer_id="c1001")
    await manager.claim(handoff.ticket_id, "ann", "Ann")
    snoozed = await manager.set_inbox(handoff.ticket_id, "ann", "snoozed", time.time() + 60)
    assert snoozed.inbox_status == "snoozed" and snoozed.snoozed_until > time.time()
    clients = [aioredis.Redis.from_url(redis_url, decode_responses=True) for _ in range(4)]
    try:
        stores = [HandoffStore(client) for client in clients]  # one per "process"
        assert [await store.wake_due(time.time()) for store in stores[:1]] == [[]]  # not yet
        woken = await asyncio.gather(*(store.wake_due(time.time() + 61) for store in stores for _ in range(3)))
        assert [h.ticket_id for batch in woken for h in batch] == [handoff.ticket_id]
    finally:
        for client in clients:
            await client.aclose()
    back = await manager.handoff(handoff.ticket_id)
    assert back is not None and (back.inbox_status, back.snoozed_until) == ("open", 0.0)


async def test_the_customers_message_reopens_and_only_the_holder_changes_the_status(
    manager: HandoffManager,  # noqa: F811
) -> None:
    handoff = await opened(manager, "cust:c1002", "I want to complain", customer_id="c1002")
    with pytest.raises(ClaimRefused):  # a waiting ticket's status is nobody's but a supervisor's to change
        await manager.set_inbox(handoff.ticket_id, "bob", "pending")
    await manager.claim(handoff.ticket_id, "ann", "Ann")
    assert (await manager.set_inbox(handoff.ticket_id, "ann", "pending")).inbox_status == "pending"
    assert await manager.before(said("cust:c1002", "here is the photo", "c1002"))
    assert (await manager.handoff(handoff.ticket_id)).inbox_status == "open"
    snoozed = await manager.set_inbox(handoff.ticket_id, "sue", "snoozed", time.time() + 600, supervisor=True)
    assert snoozed.inbox_status == "snoozed"
    assert await manager.before(said("cust:c1002", "any news?", "c1002"))
    assert (await manager.handoff(handoff.ticket_id)).inbox_status == "open"
    assert await manager.wake_snoozed(time.time() + 700) == []  # its snooze was already ended by the customer
    for bad in (("asleep", 0.0), ("snoozed", time.time() - 1)):
        with pytest.raises(HandoffError):
            await manager.set_inbox(handoff.ticket_id, "ann", *bad)
    await manager.close(handoff.ticket_id, "ann", "resolved")
    assert (await manager.handoff(handoff.ticket_id)).inbox_status == "resolved"
