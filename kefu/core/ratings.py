"""Satisfaction ratings (CSAT): one record per answered survey, kept with its ticket and conversation.

Written by the survey (kefu/commitments/csat.py), read by the console (a ticket's rating) and the dashboard
(ratings in a date range). A rating is identified by its conversation and its time: recording it again (the
customer's comment arrived after the tap) replaces it rather than adding a second one.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis

from kefu.core import keys

SCORES = range(1, 6)
BY_BOT = "bot"


@dataclass(frozen=True)
class Rating:
    """``ticket_id`` is "" for a conversation the bot resolved; ``by`` is "bot" or the agent's name."""

    conversation_id: str
    ticket_id: str
    score: int
    comment: str
    by: str
    channel: str
    at: float

    def __post_init__(self) -> None:
        if isinstance(self.score, bool) or not isinstance(self.score, int) or self.score not in SCORES:
            raise ValueError(f"a rating's score is 1 to 5, got {self.score!r}")
        if not self.conversation_id:
            raise ValueError("a rating belongs to a conversation")

    @property
    def id(self) -> str:
        return f"{self.conversation_id}@{self.at:.6f}"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: str) -> Rating:
        return cls(**json.loads(raw))


class RatingStore:
    """Ratings in Redis: the records in one hash, indexed by time, by conversation and by ticket."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def record(self, rating: Rating) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.RATINGS, rating.id, json.dumps(rating.to_dict(), ensure_ascii=False))
            pipe.zadd(keys.RATINGS_BY_TIME, {rating.id: rating.at})
            pipe.zadd(keys.ratings_of_conversation(rating.conversation_id), {rating.id: rating.at})
            if rating.ticket_id:
                pipe.set(keys.rating_of_ticket(rating.ticket_id), rating.id)
            await pipe.execute()

    async def for_ticket(self, ticket_id: str) -> Rating | None:
        """The ticket's rating (the latest, should a ticket ever be rated twice)."""
        rating_id = await self.redis.get(keys.rating_of_ticket(ticket_id))
        if not rating_id:
            return None
        raw = await self.redis.hget(keys.RATINGS, rating_id)
        return Rating.from_json(raw) if raw else None

    async def for_conversation(self, conversation_id: str) -> list[Rating]:
        """Every rating of the conversation, oldest first."""
        return await self._load(await self.redis.zrange(keys.ratings_of_conversation(conversation_id), 0, -1))

    async def between(self, start: float, end: float) -> list[Rating]:
        """Ratings given at ``start <= at <= end`` (epoch seconds), oldest first."""
        return await self._load(await self.redis.zrangebyscore(keys.RATINGS_BY_TIME, start, end))

    async def _load(self, ids: list[str]) -> list[Rating]:
        if not ids:
            return []
        return [Rating.from_json(raw) for raw in await self.redis.hmget(keys.RATINGS, ids) if raw]
