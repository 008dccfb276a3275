"""The moments service levels are measured by that no other record keeps: an agent's first words on a handoff,
and whether each promised follow-up was kept by its due time (the follow-up itself is deleted once kept).

Written where they happen (the handoff manager's reply, kefu/handoff/followups.py), read by the dashboard.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from kefu.core import keys

FIRST_RESPONSE = "first_response_at"  # a field of the handoff's hash (kefu/handoff/state.py ignores it)


async def first_response(redis: aioredis.Redis, ticket_id: str, at: float) -> bool:
    """Remember when an agent first wrote to the customer on this handoff; True the first time only."""
    return bool(await redis.hsetnx(keys.handoff(ticket_id), FIRST_RESPONSE, at))


def _entry(ticket_id: str, due_at: float) -> str:
    return f"{ticket_id}|{due_at:.0f}"


def followup_promised(pipe: Pipeline, ticket_id: str, due_at: float, earlier_due: float | None,
                      now: float | None = None) -> None:
    """Queue on ``pipe``: a promise due at ``due_at``. One that replaces an earlier promise before that was due
    is a new time agreed, not a miss: the earlier one leaves the ledger (past due, it stays, and counts missed)."""
    now = time.time() if now is None else now
    if earlier_due is not None and earlier_due > now:
        pipe.zrem(keys.FOLLOWUP_LEDGER, _entry(ticket_id, earlier_due))
    pipe.zadd(keys.FOLLOWUP_LEDGER, {_entry(ticket_id, due_at): due_at})


def followup_kept(pipe: Pipeline, ticket_id: str, due_at: float, at: float) -> None:
    """Queue on ``pipe``: the promise due at ``due_at`` was kept (or its ticket finished) at ``at``."""
    pipe.hset(keys.FOLLOWUP_LEDGER_KEPT, _entry(ticket_id, due_at), f"{at:.3f}")


@dataclass(frozen=True)
class FollowUpOutcome:
    ticket_id: str
    due_at: float
    kept_at: float | None

    def state(self, now: float) -> str:
        """kept (by the due time), missed (late, or not at all and past due) or pending."""
        if self.kept_at is not None:
            return "kept" if self.kept_at <= self.due_at else "missed"
        return "missed" if self.due_at < now else "pending"


async def followups_due(redis: aioredis.Redis, start: float, end: float) -> list[FollowUpOutcome]:
    """Every follow-up promised for ``start <= due <= end``, with when it was kept."""
    entries = await redis.zrangebyscore(keys.FOLLOWUP_LEDGER, start, end, withscores=True)
    if not entries:
        return []
    kept = await redis.hmget(keys.FOLLOWUP_LEDGER_KEPT, [entry for entry, _ in entries])
    return [FollowUpOutcome(entry.rsplit("|", 1)[0], due, float(at) if at else None)
            for (entry, due), at in zip(entries, kept, strict=True)]


@dataclass(frozen=True)
class HandoffTimes:
    """A handoff's clock, read from its record (kefu/handoff/state.py writes it; FIRST_RESPONSE is ours)."""

    ticket_id: str
    reason: str
    priority: str
    channel: str
    agent: str
    status: str
    created_at: float
    claimed_at: float
    first_response_at: float
    finished_at: float

    @property
    def active(self) -> bool:
        return self.status in ("waiting", "assigned")

    def first_response_s(self) -> float | None:
        """Seconds until the customer first heard from a person: an agent's first reply, or the agent's closing
        message when the ticket was finished without one; None while nobody has answered."""
        answered = self.first_response_at or (self.finished_at if not self.active else 0.0)
        return answered - self.created_at if answered else None

    def breached(self, target_s: float, now: float) -> bool:
        """Answered later than the target, or not answered and already past it."""
        waited = self.first_response_s()
        return (now - self.created_at if waited is None else waited) > target_s


def _times(ticket_id: str, raw: dict[str, str]) -> HandoffTimes:
    def number(name: str) -> float:
        try:
            return float(raw.get(name) or 0)
        except ValueError:
            return 0.0
    return HandoffTimes(ticket_id=ticket_id, reason=raw.get("reason", ""), priority=raw.get("priority", ""),
                        channel=raw.get("channel", ""), agent=raw.get("agent", ""), status=raw.get("status", ""),
                        created_at=number("created_at"), claimed_at=number("claimed_at"),
                        first_response_at=number(FIRST_RESPONSE), finished_at=number("finished_at"))


async def handoffs_between(redis: aioredis.Redis, start: float, end: float) -> list[HandoffTimes]:
    """Handoffs opened at ``start <= t <= end`` (the handoff index, kefu/handoff/state.py), oldest first."""
    ids = await redis.zrangebyscore(keys.HANDOFF_INDEX, start, end)
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for ticket_id in ids:
            pipe.hgetall(keys.handoff(ticket_id))
        rows = await pipe.execute()
    return [_times(ticket_id, raw) for ticket_id, raw in zip(ids, rows, strict=True) if raw]
