"""Quality review (QA): a share of finished conversations, the bot's and the agents' alike, drawn into a queue a
supervisor scores on a rubric; each agent reads the reviews of their own conversations.

The draw happens once per finished conversation (a handoff closed or handed back, a bot exchange the customer
ended), whichever process sees it finish; the random source is injected so tests can seed it.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import redis.asyncio as aioredis

from kefu.core import keys

BOT = "bot"
KINDS = ("bot", "agent")
SCORED = ("right_answer", "empathy")  # 1 to 5
CHECKED = ("followed_rules",)  # yes or no
OPTIONAL = ("promise_kept",)  # yes, no, or null when nothing was promised
MAX_COMMENT = 2000
DECIDED_TTL_S = 30 * 24 * 3600


class ReviewError(ValueError):
    """A review that does not fit the rubric; the message names the field."""


@dataclass(frozen=True)
class Review:
    reviewer: str
    right_answer: int
    empathy: int
    followed_rules: bool
    promise_kept: bool | None
    comment: str
    at: float

    @classmethod
    def from_form(cls, form: dict[str, Any], reviewer: str, at: float | None = None) -> Review:
        """A rubric filled in by a supervisor; ReviewError names the first field that does not fit."""
        for name in SCORED:
            value = form.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                raise ReviewError(f"{name}: a score from 1 to 5")
        for name in CHECKED:
            if not isinstance(form.get(name), bool):
                raise ReviewError(f"{name}: true or false")
        for name in OPTIONAL:
            if form.get(name) is not None and not isinstance(form.get(name), bool):
                raise ReviewError(f"{name}: true, false or null")
        comment = form.get("comment", "")
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
            raise ReviewError(f"comment: text of at most {MAX_COMMENT} characters")
        return cls(reviewer=reviewer, right_answer=form["right_answer"], empathy=form["empathy"],
                   followed_rules=form["followed_rules"], promise_kept=form.get("promise_kept"),
                   comment=comment.strip(), at=time.time() if at is None else at)


@dataclass(frozen=True)
class QAItem:
    """One sampled conversation: ``ticket_id`` "" and ``agent`` "bot" for an exchange the bot handled alone."""

    id: str
    kind: str
    conversation_id: str
    ticket_id: str
    agent: str
    channel: str
    started_at: float
    finished_at: float
    sampled_at: float
    review: Review | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: str) -> QAItem:
        data = json.loads(raw)
        review = data.pop("review", None)
        return cls(**data, review=Review(**review) if review else None)


class QAQueue:
    """Items in one hash; a sorted set of those waiting for review, one of reviewed ones, one per agent."""

    def __init__(self, redis: aioredis.Redis, share: float, rng: random.Random | None = None) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"the QA share is from 0 to 1, got {share}")
        self.redis = redis
        self.share = share
        self.rng = rng or random.SystemRandom()

    async def consider(self, subject: str, kind: str, conversation_id: str, ticket_id: str, agent: str,
                       channel: str, started_at: float, finished_at: float) -> QAItem | None:
        """Draw a finished conversation into the queue with probability ``share``; the item, or None. A subject
        (ticket or exchange) is drawn once, however many processes see it finish."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if not await self.redis.set(keys.qa_decided(subject), "1", nx=True, ex=DECIDED_TTL_S):
            return None
        if self.rng.random() >= self.share:
            return None
        item = QAItem(id=f"qa-{subject}", kind=kind, conversation_id=conversation_id, ticket_id=ticket_id,
                      agent=agent or BOT, channel=channel, started_at=started_at, finished_at=finished_at,
                      sampled_at=time.time())
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.QA_ITEMS, item.id, json.dumps(item.to_dict(), ensure_ascii=False))
            pipe.zadd(keys.QA_QUEUE, {item.id: item.sampled_at})
            await pipe.execute()
        return item

    async def get(self, item_id: str) -> QAItem | None:
        raw = await self.redis.hget(keys.QA_ITEMS, item_id)
        return QAItem.from_json(raw) if raw else None

    async def waiting(self, limit: int = 200) -> list[QAItem]:
        """Items not reviewed yet, oldest first."""
        return await self._load(await self.redis.zrange(keys.QA_QUEUE, 0, limit - 1))

    async def reviewed(self, limit: int = 200) -> list[QAItem]:
        """Reviewed items, newest review first."""
        return await self._load(await self.redis.zrevrange(keys.QA_REVIEWED, 0, limit - 1))

    async def of_agent(self, agent: str, limit: int = 200) -> list[QAItem]:
        """The reviews of one agent's conversations, newest first (what the agent reads)."""
        return await self._load(await self.redis.zrevrange(keys.qa_of_agent(agent), 0, limit - 1))

    async def review(self, item_id: str, review: Review) -> QAItem | None:
        """Score an item (a second review replaces the first); None for an unknown item."""
        item = await self.get(item_id)
        if item is None:
            return None
        scored = replace(item, review=review)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.QA_ITEMS, item_id, json.dumps(scored.to_dict(), ensure_ascii=False))
            pipe.zrem(keys.QA_QUEUE, item_id)
            pipe.zadd(keys.QA_REVIEWED, {item_id: review.at})
            pipe.zadd(keys.qa_of_agent(item.agent), {item_id: review.at})
            await pipe.execute()
        return scored

    async def _load(self, ids: list[str]) -> list[QAItem]:
        if not ids:
            return []
        return [QAItem.from_json(raw) for raw in await self.redis.hmget(keys.QA_ITEMS, ids) if raw]
