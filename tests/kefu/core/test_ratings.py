"""The rating store on a real Redis: by ticket, by conversation, by time; a rating recorded again replaces itself."""
from __future__ import annotations

import dataclasses

import pytest
import redis.asyncio as aioredis

from kefu.core.ratings import Rating, RatingStore


def rating(conversation: str = "cust:c1001", at: float = 1000.0, **fields) -> Rating:
    values = {"ticket_id": "", "score": 4, "comment": "", "by": "bot", "channel": "web"} | fields
    return Rating(conversation_id=conversation, at=at, **values)


async def test_ratings_are_found_by_ticket_conversation_and_time(redis_client: aioredis.Redis) -> None:
    store = RatingStore(redis_client)
    first = rating(at=1000.0, score=2)
    closed = rating(at=2000.0, ticket_id="T-100901", score=5, by="ann", channel="wechat")
    other = rating("cust:c1002", at=1500.0, score=3)
    for item in (closed, first, other):
        await store.record(item)
    assert await store.for_ticket("T-100901") == closed
    assert await store.for_ticket("T-999999") is None
    assert await store.for_conversation("cust:c1001") == [first, closed]
    assert await store.for_conversation("cust:nobody") == []
    assert await store.between(1000.0, 1500.0) == [first, other]
    assert await store.between(1500.1, 9999.0) == [closed]


async def test_recording_the_same_rating_with_its_comment_replaces_it(redis_client: aioredis.Redis) -> None:
    store = RatingStore(redis_client)
    tapped = rating(ticket_id="T-100902", score=1)
    await store.record(tapped)
    commented = dataclasses.replace(tapped, comment="nobody called me back")
    await store.record(commented)
    assert await store.for_conversation("cust:c1001") == [commented]
    assert await store.for_ticket("T-100902") == commented
    assert await store.between(0, 10_000) == [commented]


@pytest.mark.parametrize("score", [0, 6, -1, True, 4.5, "5"])
def test_a_score_outside_one_to_five_is_refused(score: object) -> None:
    with pytest.raises(ValueError):
        rating(score=score)


def test_a_rating_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        rating().score = 1  # type: ignore[misc]
