"""QA sampling: the configured share of finished conversations is drawn (seeded random), each subject once;
reviews fit the rubric or are refused naming the field."""
from __future__ import annotations

import random

import pytest
import redis.asyncio as aioredis

from kefu.core.reviews import QAQueue, Review, ReviewError

FORM = {"right_answer": 4, "empathy": 5, "followed_rules": True, "promise_kept": None, "comment": " good "}


async def finish(qa: QAQueue, count: int, kind: str = "agent") -> int:
    drawn = 0
    for n in range(count):
        item = await qa.consider(f"T-{n:06d}", kind, f"cust:c{n}", f"T-{n:06d}", "ann" if kind == "agent" else "",
                                 "web", 1000.0 + n, 1100.0 + n)
        drawn += item is not None
    return drawn


async def test_the_default_share_is_drawn_with_a_seeded_random(redis_client: aioredis.Redis) -> None:
    rng = random.Random(12)
    draws = [rng.random() < 0.05 for _ in range(2000)]
    drawn = await finish(QAQueue(redis_client, 0.05, random.Random(12)), 2000)
    assert drawn == sum(draws)  # exactly the seeded draws: one per finished conversation, in order
    assert 70 <= drawn <= 130  # and about 5 %
    assert len(await QAQueue(redis_client, 0.05).waiting(limit=500)) == drawn


async def test_a_conversation_is_drawn_once_however_often_it_finishes(redis_client: aioredis.Redis) -> None:
    qa = QAQueue(redis_client, 1.0, random.Random(1))
    assert await finish(qa, 3) == 3
    assert await finish(qa, 3) == 0  # the same tickets again (another process saw them finish)


@pytest.mark.parametrize("share", [0.0, 1.0])
async def test_the_share_is_configurable(redis_client: aioredis.Redis, share: float) -> None:
    assert await finish(QAQueue(redis_client, share, random.Random(3)), 50, kind="bot") == int(50 * share)


def test_a_share_outside_0_1_is_refused(redis_client: aioredis.Redis) -> None:
    with pytest.raises(ValueError, match="QA share"):
        QAQueue(redis_client, 1.5)


async def test_a_review_moves_the_item_and_reaches_the_agent(redis_client: aioredis.Redis) -> None:
    qa = QAQueue(redis_client, 1.0)
    await finish(qa, 1)
    (item,) = await qa.waiting()
    assert item.agent == "ann" and item.review is None
    scored = await qa.review(item.id, Review.from_form(FORM, "sue", at=5000.0))
    assert scored is not None and scored.review is not None and scored.review.comment == "good"
    assert await qa.waiting() == []
    assert [i.id for i in await qa.reviewed()] == [item.id]
    assert [i.review for i in await qa.of_agent("ann")] == [scored.review]
    assert await qa.of_agent("bob") == []
    assert await qa.review("qa-nothing", scored.review) is None


@pytest.mark.parametrize(("change", "field"), [
    ({"right_answer": 0}, "right_answer"), ({"right_answer": 6}, "right_answer"), ({"empathy": "5"}, "empathy"),
    ({"empathy": True}, "empathy"), ({"followed_rules": "yes"}, "followed_rules"),
    ({"promise_kept": 1}, "promise_kept"), ({"comment": "x" * 2001}, "comment"),
])
def test_a_review_off_the_rubric_names_the_field(change: dict, field: str) -> None:
    with pytest.raises(ReviewError, match=f"^{field}:"):
        Review.from_form(FORM | change, "sue")
