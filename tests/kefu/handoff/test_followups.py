"""Promised follow-ups (field note 9): tracked with a due time, alerted once before and once when missed."""
from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import aiohttp
import redis.asyncio as aioredis

from kefu.config.handoff import HandoffSettings
from kefu.core.inbox import Inbox
from kefu.core.messages import InboundMessage
from kefu.dialogue.rasa_client import RasaClient
from kefu.handoff.decision import Decision
from kefu.handoff.followups import FollowUps, watch
from kefu.handoff.manager import HandoffManager
from kefu.ops.stack import free_port
from kefu.orders.demo import DemoOrderBackend
from tests.helpers.console import add_user, signed_in
from tests.helpers.delivery import recording_delivery
from tests.kefu.console.test_auth import console  # noqa: F401  (fixture)
from tests.kefu.console.test_transfer import open_handoff


async def test_alerts_come_once_per_stage_whichever_process_looks(redis_client: aioredis.Redis) -> None:
    gateway, worker = FollowUps(redis_client), FollowUps(redis_client)  # two processes watching
    now = time.time()
    await gateway.promise("T-1", now + 3600, "call back about the refund", "ann")
    await gateway.promise("T-2", now + 600, "send the tracking number", "bob")
    assert [f.ticket_id for f in await gateway.due_by(now + 7200)] == ["T-2", "T-1"]

    soon = await gateway.alerts(now)  # T-2 is due within 15 minutes, T-1 is not
    assert [(e["stage"], e["item"]["ticket_id"]) for e in soon] == [("soon", "T-2")]
    assert await worker.alerts(now) == []  # already raised
    missed = await worker.alerts(now + 601)
    assert [(e["stage"], e["item"]["ticket_id"]) for e in missed] == [("missed", "T-2")]
    assert await gateway.alerts(now + 602) == []

    assert await gateway.kept("T-2") and not await gateway.kept("T-2")
    assert await worker.alerts(now + 3600) == [{"type": "followup", "stage": "missed",
                                                 "item": (await gateway.get("T-1")).to_dict()}]


async def test_a_handoff_outside_working_hours_promises_contact_at_opening_and_closing_keeps_it(
    redis_client: aioredis.Redis,
) -> None:
    today = datetime.now(UTC).astimezone(HandoffSettings().tz).isoweekday()
    closed_today = HandoffSettings(first_day=today % 7 + 1, last_day=today % 7 + 1)  # agents work tomorrow only
    message = InboundMessage(channel="web", sender="v9", conversation_id="visitor:v9", text="I want to complain")
    assert await Inbox(redis_client, shards=2).submit(message)
    delivery, _ = recording_delivery(redis_client)

    async with aiohttp.ClientSession() as http:  # Rasa is not running: pausing its tracker is only logged
        rasa = RasaClient(http, f"http://127.0.0.1:{free_port()}", "token", timeout_s=1)
        manager = HandoffManager(redis_client, rasa, DemoOrderBackend(redis_client), closed_today, delivery)
        await manager.open(message, Decision("handoff", "complaint", "high", "test"), {})
        (ticket_id,) = [f.ticket_id for f in await manager.followups.due_by(time.time() + 8 * 86400)]
        followup = await manager.followups.get(ticket_id)
        assert followup is not None and followup.promised_by == "system"
        assert followup.due_at == closed_today.next_opening(datetime.now(UTC)).timestamp()
        assert (await manager.packet(ticket_id))["followup"]["due_at"] == followup.due_at
        await manager.close(ticket_id, "ann", "resolved", supervisor=True)
    assert await manager.followups.get(ticket_id) is None


async def test_an_agent_promises_a_follow_up_from_the_console(
    console: str, redis_url: str, redis_client: aioredis.Redis  # noqa: F811
) -> None:
    ann = await add_user(redis_url, "ann")
    ticket = (await open_handoff(redis_client, "v2")).ticket_id
    due = time.time() + 2 * 3600
    async with signed_in(console, "ann", ann) as agent:
        assert (await agent.act(ticket, "claim"))[0] == 200
        assert (await agent.act(ticket, "followup", due_at="tomorrow", what="call back"))[0] == 400
        assert (await agent.act(ticket, "followup", due_at=due, what=""))[0] == 400
        assert (await agent.act(ticket, "followup", due_at=time.time() - 60, what="call back"))[0] == 409
        status, body = await agent.act(ticket, "followup", due_at=due, what="<b>call back</b> by 12:00")
        assert status == 200 and body["result"]["promised_by"] == "ann"
        status, packet = await agent.get(f"/console/api/tickets/{ticket}")
        assert status == 200 and packet["followup"]["what"] == "<b>call back</b> by 12:00"
        assert packet["followup"]["due_at"] == due
        assert (await agent.act(ticket, "followup_done"))[0] == 200
        status, packet = await agent.get(f"/console/api/tickets/{ticket}")
        assert packet["followup"] is None


async def test_the_watcher_raises_each_alert_on_the_consoles_once(redis_client: aioredis.Redis) -> None:
    followups = FollowUps(redis_client)
    await followups.promise("T-3", time.time() + 60, "call back", "ann")
    published: list[dict] = []

    async def publish(event: dict) -> None:
        published.append(event)

    watchers = [asyncio.create_task(watch(followups, publish, every_s=0.05)) for _ in range(2)]
    await asyncio.sleep(0.3)
    for watcher in watchers:
        watcher.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    assert [(e["stage"], e["item"]["ticket_id"]) for e in published] == [("soon", "T-3")]
