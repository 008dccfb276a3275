"""The dead-letter stream: inbox entries the pipeline could not answer after retrying, kept for people.

An entry lands here when answering it failed for a reason that is not an outage to wait out (a bug in a
handler, a malformed answer from Rasa, Redis refusing writes for longer than the retries): the shard moves on
instead of dying on it, the customer is told a person will answer (a ``bot_error`` handoff, opened by the
pipeline), and operators find the entry, the error and the attempts here. The stream is capped
(``RetentionSettings.dead_letter_max``), oldest first.

People act on each letter once (the console's dead-letter view, kefu/console/deadletters.py): *handled* (a
person dealt with it) or *retried* (the message goes back into the inbox, e.g. after the bug is fixed). Either is
one script that records the letter's state only if it has none yet and, for a retry, queues the message in the
same step: however often the button is pressed, or by however many agents, the message is queued once.
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.inbox import shard_of
from kefu.core.messages import InboundMessage

STATUSES = ("handled", "retried")
# Record the letter's state unless it has one; a retry queues the message in the same step.
_ACT = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
if ARGV[3] ~= '' then redis.call('XADD', KEYS[2], '*', 'message', ARGV[3]) end
return 1
"""


class DeadLetterError(ValueError):
    """The letter cannot be acted on: ``code`` says why (not_found, done, unreadable)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


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
    id: str = ""  # the dead-letter stream's entry id, once stored
    state: dict[str, Any] | None = None  # {"status": handled|retried, "by": agent, "at": epoch s}, once acted on

    def inbound(self) -> InboundMessage | None:
        """The customer's message, or None for an entry that could not be read."""
        try:
            return InboundMessage.from_json(self.message)
        except (TypeError, ValueError):
            return None

    def view(self) -> dict[str, Any]:
        """What people see: the customer's words, where and when, and what went wrong."""
        message = self.inbound()
        return {"id": self.id, "conversation_id": self.conversation_id, "at": self.at, "error": self.error,
                "attempts": self.attempts, "channel": message.channel if message else "",
                "text": message.text if message else None, "raw": None if message else self.message[:500],
                "state": self.state}

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
        self._act = redis.register_script(_ACT)

    async def add(self, letter: DeadLetter) -> str:
        return await self.redis.xadd(keys.DEAD_LETTERS, letter.to_fields(), maxlen=self.max_entries,
                                     approximate=True)

    async def recent(self, count: int = 100) -> list[DeadLetter]:
        """The newest first, each with its state."""
        rows = await self.redis.xrevrange(keys.DEAD_LETTERS, count=count)
        states = await self.redis.hmget(keys.DEAD_LETTER_STATE, [row_id for row_id, _ in rows]) if rows else []
        return [replace(DeadLetter.from_fields(fields), id=row_id, state=json.loads(state) if state else None)
                for (row_id, fields), state in zip(rows, states, strict=True)]

    async def get(self, letter_id: str) -> DeadLetter | None:
        try:
            rows = await self.redis.xrange(keys.DEAD_LETTERS, min=letter_id, max=letter_id)
        except aioredis.ResponseError:  # not a stream id
            return None
        if not rows:
            return None
        state = await self.redis.hget(keys.DEAD_LETTER_STATE, letter_id)
        return replace(DeadLetter.from_fields(rows[0][1]), id=letter_id, state=json.loads(state) if state else None)

    async def act(self, letter_id: str, status: str, by: str, shards: int) -> DeadLetter:
        """Mark the letter handled, or retry it (its message back into the inbox), once: DeadLetterError
        ``done`` when it was already acted on."""
        assert status in STATUSES
        letter = await self.get(letter_id)
        if letter is None:
            raise DeadLetterError("not_found")
        message = letter.inbound() if status == "retried" else None
        if status == "retried" and message is None:
            raise DeadLetterError("unreadable")
        state = {"status": status, "by": by, "at": round(time.time(), 3)}
        stream = keys.inbox_stream(shard_of(message.conversation_id, shards)) if message else keys.DEAD_LETTERS
        done = await self._act(keys=[keys.DEAD_LETTER_STATE, stream],
                               args=[letter_id, json.dumps(state), letter.message if message else ""])
        if not done:
            raise DeadLetterError("done")
        return replace(letter, state=state)
