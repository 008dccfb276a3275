"""How far the pipeline got with one inbox entry, in Redis, so replaying the entry never asks Rasa again.

An entry is acknowledged only after its replies went out, so a crash or a Redis blip anywhere before that
replays it. Each step that must not happen twice is recorded right after it succeeds (and before the next one
starts); a replay skips what is recorded. The failure windows, step by step:

1. ``turn``: Rasa's answer (replies, understanding, slots), written right after Rasa answers and before anything
   is stored or delivered. Lost before it is written (Redis down at that very moment, the worker killed): the
   replay asks Rasa again, the only window in which a turn reaches Rasa twice; the actions see the same
   ``idempotency_key`` then, so an order operation still happens once (kefu/orders). A Rasa request that timed
   out is retried for the same reason: Rasa may have run it.
2. ``decision``: the handoff decision, written after the manager acted on it. A handoff opened but not
   recorded is recognised on replay by the held conversation's trigger (this entry's message id), so no second
   ticket is opened.
3. ``delivered``: how many of the bot's replies went out, written after each. A reply sent but not counted
   is sent again on replay: at most one duplicate reply, and only when Redis fails between the two writes.
4. ``offered``, ``observed``, ``held``: the offer of a person, the turn observers, a held conversation's
   message forwarded to the agent; same rule.
5. Done: the done marker, the acknowledgement and the deletion of the record, in one transaction.

The record expires (``RetentionSettings.done_ttl_s``), so an entry lost with its stream leaves nothing behind.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.conversations import Understanding
from kefu.core.messages import Button
from kefu.dialogue.rasa_client import BotReply, RasaTurn
from kefu.handoff.decision import Decision


def turn_to_json(turn: RasaTurn) -> str:
    return json.dumps({
        "replies": [{"text": r.text, "buttons": [[b.title, b.payload] for b in r.buttons]} for r in turn.replies],
        "understanding": turn.understanding.to_dict(),
        "slots": turn.slots,
    }, ensure_ascii=False)


def turn_from_json(raw: str) -> RasaTurn:
    data = json.loads(raw)
    return RasaTurn(
        replies=[BotReply(r["text"], tuple(Button(t, p) for t, p in r["buttons"])) for r in data["replies"]],
        understanding=Understanding(**data["understanding"]),
        slots=data["slots"],
    )


@dataclass
class EntryProgress:
    """One entry's record; ``None`` store means a message processed outside the inbox (nothing is recorded)."""

    redis: aioredis.Redis | None = None
    key: str = ""
    ttl_s: int = 0
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def load(cls, redis: aioredis.Redis, shard: int, entry_id: str, ttl_s: int) -> EntryProgress:
        key = keys.entry_progress(shard, entry_id)
        return cls(redis, key, ttl_s, await redis.hgetall(key))

    async def _set(self, name: str, value: str) -> None:
        self.fields[name] = value
        if self.redis is None:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key, name, value)
            pipe.expire(self.key, self.ttl_s)
            await pipe.execute()

    def has(self, name: str) -> bool:
        return name in self.fields

    async def mark(self, name: str) -> None:
        await self._set(name, "1")

    @property
    def turn(self) -> RasaTurn | None:
        raw = self.fields.get("turn")
        return turn_from_json(raw) if raw else None

    async def answered(self, turn: RasaTurn) -> None:
        await self._set("turn", turn_to_json(turn))

    @property
    def decision(self) -> tuple[bool, Decision | None]:
        """(recorded?, the decision or None when the manager gave none)."""
        if "decision" not in self.fields:
            return False, None
        raw: dict[str, Any] | None = json.loads(self.fields["decision"])
        return True, Decision(**raw) if raw else None

    async def decided(self, decision: Decision | None) -> None:
        await self._set("decision", json.dumps(decision.to_dict() if decision else None))

    @property
    def delivered(self) -> int:
        return int(self.fields.get("delivered", 0))

    async def delivered_up_to(self, count: int) -> None:
        await self._set("delivered", str(count))
