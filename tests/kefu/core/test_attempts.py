"""The shared attempt limiter (kefu/core/attempts.py): one atomic step over several counters, each with its own
limit and window; counters expire and a success never resets one."""
from __future__ import annotations

import asyncio
from collections import Counter as Tally

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.attempts import ORDER_PROOF_LIMIT, AttemptLimiter, Counter, Verdict, order_proof


def counters(limit_a: int = 3, limit_b: int = 5) -> list[Counter]:
    return [Counter("test:attempts:a", limit_a, 60), Counter("test:attempts:b", limit_b, 120)]


async def test_wrong_tries_are_open_then_the_last_one_is_spent_then_everything_is_locked(
    redis_client: aioredis.Redis,
) -> None:
    limiter = AttemptLimiter(redis_client)
    verdicts = [await limiter.attempt(counters(), wrong=True) for _ in range(4)]
    assert verdicts == [Verdict.OPEN, Verdict.OPEN, Verdict.SPENT, Verdict.LOCKED]
    assert await limiter.attempt(counters(), wrong=False) is Verdict.LOCKED  # the right answer too


async def test_right_tries_only_check_and_never_reset(redis_client: aioredis.Redis) -> None:
    limiter = AttemptLimiter(redis_client)
    await limiter.attempt(counters(), wrong=True)
    for _ in range(10):
        assert await limiter.attempt(counters(), wrong=False) is Verdict.OPEN
    assert await redis_client.get("test:attempts:a") == "1"
    assert await limiter.attempt(counters(), wrong=True) is Verdict.OPEN
    assert await limiter.attempt(counters(), wrong=True) is Verdict.SPENT  # 3 of 3: the success bought nothing


async def test_the_fullest_counter_decides_and_each_has_its_own_window(redis_client: aioredis.Redis) -> None:
    limiter = AttemptLimiter(redis_client)
    assert await limiter.attempt(counters(limit_a=1), wrong=True) is Verdict.SPENT
    # Another attempt sharing only counter b: b is far from full, so a's lock does not spread to it.
    assert await limiter.attempt([counters()[1]], wrong=False) is Verdict.OPEN
    assert await limiter.attempt(counters(limit_a=1), wrong=False) is Verdict.LOCKED
    assert 0 < await redis_client.ttl("test:attempts:a") <= 60
    assert 60 < await redis_client.ttl("test:attempts:b") <= 120


async def test_the_window_is_fixed_from_the_first_wrong_try(redis_client: aioredis.Redis) -> None:
    limiter = AttemptLimiter(redis_client)
    await limiter.attempt(counters(), wrong=True)
    await redis_client.expire("test:attempts:a", 5)  # as if most of the window had passed
    await limiter.attempt(counters(), wrong=True)
    assert await redis_client.ttl("test:attempts:a") <= 5  # later tries do not extend it


async def test_concurrent_wrong_tries_get_no_more_than_the_limit(redis_client: aioredis.Redis) -> None:
    limiter = AttemptLimiter(redis_client)
    verdicts = await asyncio.gather(*(limiter.attempt(counters(), wrong=True) for _ in range(50)))
    assert Tally(verdicts) == {Verdict.OPEN: 2, Verdict.SPENT: 1, Verdict.LOCKED: 47}


async def test_no_counters_is_open_and_the_order_counter_is_the_chats_one(redis_client: aioredis.Redis) -> None:
    assert await AttemptLimiter(redis_client).attempt([], wrong=True) is Verdict.OPEN
    proof = order_proof("DD20261104001")
    assert (proof.key, proof.limit) == (keys.verify_failures("order", "DD20261104001"), ORDER_PROOF_LIMIT)
