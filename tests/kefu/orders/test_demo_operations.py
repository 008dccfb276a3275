"""The demo backend's record of executed order operations (what the fault bench counts), on a real Redis."""
from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from kefu.core import keys
from kefu.orders import demo
from kefu.orders.base import ShopRefused
from kefu.orders.demo import DemoOrderBackend, operations_done, seed_demo
from tests.actions.conftest import NOW


@pytest.fixture
async def backend(redis_client: aioredis.Redis) -> DemoOrderBackend:
    await seed_demo(redis_client, now=NOW)
    return DemoOrderBackend(redis_client, clock=lambda: NOW)


async def test_a_replay_under_the_same_key_is_recorded_once(
    redis_client: aioredis.Redis, backend: DemoOrderBackend,
) -> None:
    await backend.cancel("DD20261104001", idempotency_key="m-1")
    await backend.cancel("DD20261104001", idempotency_key="m-1")  # answered from the stored result
    assert await operations_done(redis_client) == [
        {"operation": "cancel", "order_id": "DD20261104001", "key": "m-1"}]


async def test_two_keys_are_two_records(redis_client: aioredis.Redis, backend: DemoOrderBackend) -> None:
    await backend.request_invoice("DD20261104005", "个人", None, idempotency_key="m-2")
    await backend.request_invoice("dd20261104005", "个人", None, idempotency_key="m-3")
    done = await operations_done(redis_client)
    assert [(op["operation"], op["order_id"], op["key"]) for op in done] == [
        ("invoice", "DD20261104005", "m-2"), ("invoice", "DD20261104005", "m-3")]


async def test_every_kind_is_recorded_under_its_name(redis_client: aioredis.Redis, backend: DemoOrderBackend) -> None:
    await backend.change_address("DD20261104002", "上海市黄浦区人民大道 200 号", idempotency_key="a")
    await backend.request_refund("DD20261104002", "不想要了", idempotency_key="b")
    await backend.request_return("DD20261104006", "exchange", pickup=True, idempotency_key="c")
    await backend.request_return("DD20261104006", "return", pickup=False)  # no key: still executed, recorded
    assert [op["operation"] for op in await operations_done(redis_client)] == [
        "change_address", "refund", "exchange", "return"]


async def test_a_refused_operation_is_not_recorded(redis_client: aioredis.Redis, backend: DemoOrderBackend) -> None:
    with pytest.raises(ShopRefused):
        await backend.cancel("DD20261104005", idempotency_key="m-4")  # shipped: refused
    assert await operations_done(redis_client) == []


async def test_the_record_is_bounded(
    redis_client: aioredis.Redis, backend: DemoOrderBackend, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(demo, "OPERATIONS_DONE_MAXLEN", 5)
    for number in range(300):
        await backend.request_invoice("DD20261104005", "个人", None, idempotency_key=f"n-{number}")
    # Trimmed near the cap (whole radix-tree nodes at a time), never the 300 executed.
    assert await redis_client.xlen(keys.ORDER_OPERATIONS_DONE) < 200
