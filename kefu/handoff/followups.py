"""Promised follow-ups (field note 9): "we will contact you by 09:00" is a commitment with a due time.

A follow-up belongs to a ticket (one at a time: promising again moves it). Agents promise one from the console;
a handoff outside working hours promises one itself, due when agents start. The watcher, run in every gateway
and worker, alerts the consoles when a follow-up is about to be missed and again when it is missed; each alert
is claimed in Redis, so several processes raise it once. Closing the ticket, or marking it done, keeps it.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis

from kefu.core import keys, service_times
from kefu.handoff.events import FollowUpAlert

log = logging.getLogger(__name__)

WARN_BEFORE_S = 15 * 60
CHECK_EVERY_S = 30.0
REDIS_DOWN = (aioredis.ConnectionError, aioredis.TimeoutError)



@dataclass(frozen=True)
class FollowUp:
    ticket_id: str
    due_at: float
    what: str
    promised_by: str
    promised_at: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class FollowUps:
    """Follow-ups in Redis: one JSON record per ticket and a sorted set by due time."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def promise(self, ticket_id: str, due_at: float, what: str, promised_by: str) -> FollowUp:
        followup = FollowUp(ticket_id, due_at, what, promised_by, time.time())
        earlier = await self.get(ticket_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.followup(ticket_id), json.dumps(followup.to_dict(), ensure_ascii=False))
            pipe.zadd(keys.FOLLOWUPS_DUE, {ticket_id: due_at})
            service_times.followup_promised(pipe, ticket_id, due_at, earlier.due_at if earlier else None)
            await pipe.execute()
        return followup

    async def get(self, ticket_id: str) -> FollowUp | None:
        raw = await self.redis.get(keys.followup(ticket_id))
        return FollowUp(**json.loads(raw)) if raw else None

    async def kept(self, ticket_id: str) -> bool:
        """The follow-up happened (or the ticket is closed): no more alerts. False when there was none."""
        earlier = await self.get(ticket_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.followup(ticket_id))
            pipe.zrem(keys.FOLLOWUPS_DUE, ticket_id)
            if earlier is not None:  # the dashboard counts it kept, or missed when this is after its due time
                service_times.followup_kept(pipe, ticket_id, earlier.due_at, time.time())
            deleted, *_ = await pipe.execute()
        return bool(deleted)

    async def due_by(self, deadline: float) -> list[FollowUp]:
        """Open follow-ups due at or before ``deadline``, soonest first."""
        tickets = await self.redis.zrangebyscore(keys.FOLLOWUPS_DUE, "-inf", deadline)
        found = [await self.get(ticket_id) for ticket_id in tickets]
        return [followup for followup in found if followup is not None]

    async def claim_alert(self, followup: FollowUp, stage: str) -> bool:
        """True for exactly one caller per follow-up, due time and stage ("soon", "missed")."""
        key = keys.followup_alerted(followup.ticket_id, followup.due_at, stage)
        return bool(await self.redis.set(key, "1", nx=True, ex=7 * 24 * 3600))

    async def alerts(self, now: float, warn_before_s: float = WARN_BEFORE_S) -> list[dict[str, object]]:
        """The console events to raise now: follow-ups due within ``warn_before_s`` and those past due."""
        events = []
        for followup in await self.due_by(now + warn_before_s):
            stage = "missed" if followup.due_at <= now else "soon"
            if await self.claim_alert(followup, stage):
                events.append(FollowUpAlert(stage, followup.to_dict()).to_dict())
        return events


async def watch(followups: FollowUps, publish, every_s: float = CHECK_EVERY_S) -> None:
    """Raise follow-up alerts until cancelled (``publish`` sends one console event)."""
    while True:
        try:
            for event in await followups.alerts(time.time()):
                log.warning("follow-up %s %s (due %s)", event["item"]["ticket_id"], event["stage"],
                            time.strftime("%Y-%m-%d %H:%M", time.gmtime(event["item"]["due_at"])))
                await publish(event)
        except REDIS_DOWN as error:
            log.warning("follow-ups: Redis unavailable (%s); retrying", error)
        task = asyncio.current_task()
        if task is not None and task.cancelling():  # cancelled inside a Redis call that turned it into an error
            return
        await asyncio.sleep(every_s)
