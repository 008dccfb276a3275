"""The dead-letter stream: inbox entries the pipeline could not answer after retrying, kept for people.

An entry lands here when answering it failed for a reason that is not an outage to wait out (a bug in a
handler, a malformed answer from Rasa, Redis refusing writes for longer than the retries): the shard moves on
instead of dying on it, the customer is told a person will answer (a ``bot_error`` handoff, opened by the
pipeline), and operators find the entry, the error and the attempts here. The stream is capped
(``RetentionSettings.dead_letter_max``), oldest first.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import redis.asyncio as aioredis

from kefu.core import keys


@dataclass(frozen=True)
class DeadLetter:
    """One entry given up on: where it was, what it said (the inbox's raw fields) and why it failed."""

    shard: int
    entry_id: str
    message: str
    error: str
    attempts: int
    conversation_id: str = ""
    at: float = 0.0

    def to_fields(self) -> dict[str, str]:
        return {"shard": str(self.shard), "entry_id": self.entry_id, "message": self.message, "error": self.error,
                "attempts": str(self.attempts), "conversation_id": self.conversation_id,
                "at": f"{self.at or time.time():.3f}"}

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> DeadLetter:
        return cls(shard=int(fields.get("shard", -1)), entry_id=fields.get("entry_id", ""),
                   message=fields.get("message", ""), error=fields.get("error", ""),
                   attempts=int(fields.get("attempts", 0)), conversation_id=fields.get("conversation_id", ""),
                   at=float(fields.get("at", 0)))


class DeadLetters:
    def __init__(self, redis: aioredis.Redis, max_entries: int = 10_000) -> None:
        self.redis = redis
        self.max_entries = max_entries

    async def add(self, letter: DeadLetter) -> str:
        return await self.redis.xadd(keys.DEAD_LETTERS, letter.to_fields(), maxlen=self.max_entries,
                                     approximate=True)

    async def recent(self, count: int = 100) -> list[DeadLetter]:
        """The newest first."""
        rows = await self.redis.xrevrange(keys.DEAD_LETTERS, count=count)
        return [DeadLetter.from_fields(fields) for _, fields in rows]
