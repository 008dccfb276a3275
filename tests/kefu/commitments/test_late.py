"""A missed follow-up is owned up to the customer once, saying where their ticket stands (real gateway and Redis)."""
from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from kefu.core.messages import InboundMessage
from kefu.handoff.decision import Decision
from tests.helpers.gateway import chat
from tests.kefu.commitments.rig import IDENTITY_SECRET, Rig, event, running_rig


@pytest.fixture
async def rig(redis_url: str) -> AsyncIterator[Rig]:
    async with running_rig(redis_url, run_pipeline=False) as rig:
        yield rig


async def test_a_missed_follow_up_is_told_to_the_customer_once(rig: Rig) -> None:
    manager = rig.services.handoff
    async with chat(rig.base_url, customer_id="c1001", secret=IDENTITY_SECRET) as customer:
        message = InboundMessage(channel="web", sender="cust:c1001", conversation_id="cust:c1001",
                                 text="退款一直没到账，我要投诉", customer_id="c1001")
        await manager.open(message, Decision(route="handoff", reason="complaint", priority="high"), {})
        ticket = (await manager.active_handoffs())[0].ticket_id
        await manager.claim(ticket, "ann", "小安")
        await manager.followups.promise(ticket, time.time() - 60, "call back about the refund", "ann")
        await customer.replies(2, timeout=15)  # the takeover notice and the agent joining

        # Whichever raises the alert (this call, or the watcher every process runs), the customer hears it once.
        announce = rig.services.commitments.announcing(manager.store.publish)
        for alert in await manager.followups.alerts(time.time()):
            await announce(alert)
            await announce(alert)  # raised again: told once all the same
        told = (await customer.replies(1, timeout=40))[0]
        assert told["role"] == "system"
        assert ticket in told["text"] and "超时" in told["text"] and "ann 正在处理" in told["text"]
        # Nothing else was said before the next update the shop sends.
        assert (await rig.shop.post(event("delivered")))[0] == 200
        assert "已签收" in (await customer.replies(1, timeout=15))[0]["text"]
