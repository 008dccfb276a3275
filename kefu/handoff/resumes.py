"""Hand-backs whose Rasa ``resume`` failed, kept in Redis until one succeeds (issue 9, defect 9).

A handoff pauses the conversation's Rasa tracker; handing it back resumes it. When that request fails (Rasa
down, restarting, answering an error), a paused tracker would keep the bot silent for that customer forever, so
the conversation is written here and resumed later: by every pipeline's retry loop, with backoff (any process
may take an item; a claim pushes it out of reach of the others for ``CLAIM_S``), and before the bot answers the
conversation's next message (kefu/pipeline/pipeline.py). The agent sees a note on the ticket both when it
failed and when it finally worked.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from kefu.core import keys

BACKOFF_S = (5.0, 15.0, 60.0, 300.0)
# How long a claimed item stays out of the other processes' reach while one tries it.
CLAIM_S = 60.0

# Claim due items: each is moved CLAIM_S into the future, so exactly one process tries it now.
# KEYS: 1 the sorted set. ARGV: 1 now, 2 claim seconds, 3 how many.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), member) end
return due
"""


@dataclass(frozen=True)
class PendingResume:
    conversation_id: str
    ticket_id: str
    attempts: int


class PendingResumes:
    """Sorted set conversation -> next attempt time, beside a hash conversation -> {ticket, attempts}."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._claim = redis.register_script(_CLAIM)

    async def add(self, conversation_id: str, ticket_id: str, attempts: int = 1) -> float:
        """Schedule (or reschedule) the next attempt; returns when it is due."""
        due = time.time() + BACKOFF_S[min(attempts, len(BACKOFF_S)) - 1]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.RESUME_DETAILS, conversation_id, json.dumps({"ticket": ticket_id, "attempts": attempts}))
            pipe.zadd(keys.RESUME_PENDING, {conversation_id: due})
            await pipe.execute()
        return due

    async def get(self, conversation_id: str) -> PendingResume | None:
        raw = await self.redis.hget(keys.RESUME_DETAILS, conversation_id)
        if raw is None:
            return None
        data = json.loads(raw)
        return PendingResume(conversation_id, str(data.get("ticket", "")), int(data.get("attempts", 1)))

    async def claim_due(self, now: float | None = None, count: int = 50) -> list[PendingResume]:
        members = await self._claim(keys=[keys.RESUME_PENDING], args=[now or time.time(), CLAIM_S, count])
        found = [await self.get(member) for member in members]
        return [item for item in found if item is not None]

    async def done(self, conversation_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(keys.RESUME_PENDING, conversation_id)
            pipe.hdel(keys.RESUME_DETAILS, conversation_id)
            await pipe.execute()
