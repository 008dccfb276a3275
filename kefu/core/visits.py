"""Conversation exchanges ("visits"): a customer's conversation record lives for years, but a supervisor counts
the exchanges in it. One starts with a customer's turn after a quiet gap, notes whether people took it over,
and ends when the customer says thanks or goodbye (or the gap passes).

Recorded after every answered turn (a pipeline observer, kefu/app/insights.py); read by the dashboard
(conversations by channel and hour, the bot's resolution rate).
"""
from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from kefu.core import keys

# Turns further apart than this belong to different exchanges (the handoff detector's session gap, too).
SESSION_GAP_S = 30 * 60
# Visits are kept this long for the dashboard, then dropped.
KEEP_S = 400 * 24 * 3600


@dataclass(frozen=True)
class Visit:
    id: str
    conversation_id: str
    channel: str
    started_at: float
    handoff: bool
    ended: bool

    @property
    def bot_resolved(self) -> bool:
        """Nobody had to take over: the bot answered the exchange on its own."""
        return not self.handoff


class Visits:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def turn(self, conversation_id: str, channel: str, at: float, handoff: bool = False,
                   ended: bool = False) -> Visit:
        """Count a customer's turn in its exchange (starting one after a gap); ``ended``: the customer closed it
        (thanks, goodbye), so their next message starts another."""
        visit_id = f"{conversation_id}@{at:.3f}"
        open_key = keys.open_visit(conversation_id)
        if await self.redis.set(open_key, visit_id, nx=True, ex=SESSION_GAP_S):
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(keys.visit(visit_id), mapping={"conversation_id": conversation_id, "channel": channel,
                                                         "started_at": f"{at:.3f}", "handoff": 0, "ended": 0})
                pipe.expire(keys.visit(visit_id), KEEP_S)
                pipe.zadd(keys.VISITS, {visit_id: at})
                pipe.zremrangebyscore(keys.VISITS, "-inf", at - KEEP_S)
                await pipe.execute()
        else:
            visit_id = await self.redis.get(open_key) or visit_id
            await self.redis.expire(open_key, SESSION_GAP_S)
        changes = {name: 1 for name, flag in (("handoff", handoff), ("ended", ended)) if flag}
        if changes:
            await self.redis.hset(keys.visit(visit_id), mapping=changes)
        if ended:
            await self.redis.delete(open_key)
        visit = await self.get(visit_id)
        assert visit is not None
        return visit

    async def get(self, visit_id: str) -> Visit | None:
        raw = await self.redis.hgetall(keys.visit(visit_id))
        return _visit(visit_id, raw) if raw else None

    async def between(self, start: float, end: float) -> list[Visit]:
        """Exchanges that started at ``start <= t <= end``, oldest first."""
        ids = await self.redis.zrangebyscore(keys.VISITS, start, end)
        async with self.redis.pipeline(transaction=False) as pipe:
            for visit_id in ids:
                pipe.hgetall(keys.visit(visit_id))
            rows = await pipe.execute() if ids else []
        return [_visit(visit_id, raw) for visit_id, raw in zip(ids, rows, strict=True) if raw]


def _visit(visit_id: str, raw: dict[str, str]) -> Visit:
    return Visit(id=visit_id, conversation_id=raw.get("conversation_id", ""), channel=raw.get("channel", ""),
                 started_at=float(raw.get("started_at") or 0), handoff=raw.get("handoff") == "1",
                 ended=raw.get("ended") == "1")
