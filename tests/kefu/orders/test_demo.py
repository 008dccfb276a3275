"""The demo order backend and its seed data, against a real Redis."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from kefu.core.tickets import TicketStore
from kefu.orders import aftersales
from kefu.orders.base import CLOSED_STATUSES, OrderNotFound, ShopRefused
from kefu.orders.demo import DemoOrderBackend, seed_demo
from tests.actions.conftest import NOW


@pytest.fixture
async def backend(redis_client: aioredis.Redis) -> DemoOrderBackend:
    await seed_demo(redis_client, now=NOW)
    return DemoOrderBackend(redis_client, clock=lambda: NOW)


async def test_seed_covers_every_state(redis_client: aioredis.Redis, backend: DemoOrderBackend) -> None:
    summary = await seed_demo(redis_client, now=NOW)
    assert summary["orders"] == [f"DD20261104{n:03d}" for n in range(1, 21)]
    orders = [await backend.get_order(order_id) for order_id in summary["orders"]]
    statuses = {order.status for order in orders}
    assert statuses == {"unpaid", "paid", "shipped", "delivered", "cancelled", "refunded"}
    assert any(o.status == "shipped" and o.tracking for o in orders)
    assert any(aftersales.tracking_stale(o, NOW) for o in orders)
    assert any(aftersales.return_decision(o, NOW).allowed for o in orders)
    assert any(o.status == "delivered" and not aftersales.return_decision(o, NOW).allowed for o in orders)
    gifts = [item for o in orders for item in o.items if item.gift and item.by_partner]
    assert gifts and gifts[0].tracking_no and gifts[0].carrier
    assert all(o.created_at <= NOW for o in orders)


async def test_flagship_orders(backend: DemoOrderBackend) -> None:
    order = await backend.get_order("DD20261104005")
    assert order.customer_id == "c1001" and order.status == "shipped" and order.tracking and order.tracking_no
    emma = await backend.orders_of("c1002")
    assert [o.id for o in emma if o.status not in CLOSED_STATUSES] == ["DD20261104010"]
    assert emma == sorted(emma, key=lambda o: o.created_at, reverse=True)


async def test_profiles_and_seeded_ticket(redis_client: aioredis.Redis, backend: DemoOrderBackend) -> None:
    profile = json.loads(await redis_client.get("kefu:demo:customer:c1002"))
    assert profile == {"id": "c1002", "name": "Emma Wilson", "phone": "13900001111", "lang": "en"}
    assert json.loads(await redis_client.get("kefu:demo:customer:c1001"))["name"] == "张伟"
    ticket = await TicketStore(redis_client).latest_for("c1001")
    assert ticket is not None and ticket.id == "T-100871" and ticket.status == "processing" and ticket.last_update


async def test_reseeding_replaces_changes(redis_client: aioredis.Redis, backend: DemoOrderBackend) -> None:
    await backend.cancel("DD20261104002")
    await redis_client.set("kefu:demo:order:DD29990000000", "{}")
    await seed_demo(redis_client, now=NOW)
    assert (await backend.get_order("DD20261104002")).status == "paid"
    assert await redis_client.get("kefu:demo:order:DD29990000000") is None


async def test_unknown_order(backend: DemoOrderBackend) -> None:
    with pytest.raises(OrderNotFound):
        await backend.get_order("DD20990101001")
    assert await backend.orders_of("c9999") == []


async def test_cancel_and_change_address_follow_the_rules(backend: DemoOrderBackend) -> None:
    cancelled = await backend.cancel("DD20261104001")
    assert cancelled.status == "cancelled" and cancelled.cancelled_at == NOW
    assert (await backend.get_order("DD20261104001")).status == "cancelled"
    moved = await backend.change_address("DD20261104002", "上海市黄浦区人民大道 200 号")
    assert (await backend.get_order("DD20261104002")).address == moved.address == "上海市黄浦区人民大道 200 号"
    with pytest.raises(ShopRefused):
        await backend.cancel("DD20261104005")
    with pytest.raises(ShopRefused):
        await backend.change_address("DD20261104005", "anywhere")


async def test_refunds(backend: DemoOrderBackend) -> None:
    now = await backend.request_refund("DD20261104002", "不想要了")
    assert now.status == "refunded" and (await backend.get_order("DD20261104002")).status == "refunded"
    stale = await backend.request_refund("DD20261104004", "没物流")
    assert stale.status == "refunded"
    review = await backend.request_refund("DD20261104005", "想退")
    assert review.status == "pending_review"
    order = await backend.get_order("DD20261104005")
    assert order.status == "shipped" and order.refund_requested_at == NOW
    with pytest.raises(ShopRefused):
        await backend.request_refund("DD20261104001", "unpaid")


async def test_returns_and_invoices(backend: DemoOrderBackend) -> None:
    request = await backend.request_return("DD20261104006", "exchange", pickup=True)
    assert request.kind == "exchange" and request.pickup and request.status == "accepted"
    with pytest.raises(ShopRefused):
        await backend.request_return("DD20261104007", "return", pickup=False)
    invoice = await backend.request_invoice("DD20261104005", "个人", None)
    assert invoice.kind == "invoice" and invoice.detail["title"] == "个人"
    with pytest.raises(ShopRefused):
        await backend.request_invoice("DD20261104008", "个人", None)
    assert request.id != invoice.id


async def test_seed_times_are_relative(redis_client: aioredis.Redis) -> None:
    later = NOW + timedelta(days=100)
    await seed_demo(redis_client, now=later)
    order = await DemoOrderBackend(redis_client).get_order("DD20261104005")
    assert later - timedelta(days=5) < order.created_at < later


async def test_an_operation_repeated_under_its_idempotency_key_is_done_once(
    redis_client: aioredis.Redis, backend: DemoOrderBackend,
) -> None:
    """A replayed message (or an action Rasa ran again) asks with the same key: one request, the same answer."""
    first = await backend.request_return("DD20261104006", "exchange", pickup=True, idempotency_key="msg-1")
    again = await backend.request_return("DD20261104006", "exchange", pickup=True, idempotency_key="msg-1")
    assert again == first
    assert await redis_client.get("kefu:demo:request:counter") == "1"
    other = await backend.request_return("DD20261104006", "exchange", pickup=True, idempotency_key="msg-2")
    assert other.id != first.id  # another message is another request
    invoice = await backend.request_invoice("DD20261104005", "个人", None, idempotency_key="msg-3")
    assert await backend.request_invoice("DD20261104005", "个人", None, idempotency_key="msg-3") == invoice
    refund = await backend.request_refund("DD20261104002", "不想要了", idempotency_key="msg-4")
    assert await backend.request_refund("DD20261104002", "不想要了", idempotency_key="msg-4") == refund


async def test_a_repeated_cancel_or_address_change_answers_the_first_result(backend: DemoOrderBackend) -> None:
    cancelled = await backend.cancel("DD20261104001", idempotency_key="msg-5")
    # Without the key the rules would refuse now (already cancelled); with it, the first answer comes back.
    assert await backend.cancel("DD20261104001", idempotency_key="msg-5") == cancelled
    with pytest.raises(ShopRefused):
        await backend.cancel("DD20261104001", idempotency_key="msg-6")
    moved = await backend.change_address("DD20261104002", "上海市黄浦区人民大道 200 号", idempotency_key="msg-7")
    assert await backend.change_address("DD20261104002", "上海市黄浦区人民大道 200 号",
                                        idempotency_key="msg-7") == moved


async def test_a_refused_or_failed_operation_is_not_remembered(
    redis_client: aioredis.Redis, backend: DemoOrderBackend,
) -> None:
    with pytest.raises(ShopRefused):
        await backend.cancel("DD20261104005", idempotency_key="msg-8")  # shipped: refused
    assert not await redis_client.exists("kefu:demo:op:msg-8")


async def test_remembered_results_expire(redis_client: aioredis.Redis, backend: DemoOrderBackend) -> None:
    from kefu.orders.demo import OPERATION_TTL_S

    await backend.request_invoice("DD20261104005", "个人", None, idempotency_key="msg-9")
    assert 0 < await redis_client.ttl("kefu:demo:op:msg-9") <= OPERATION_TTL_S


async def test_orders_of_is_bounded_by_the_limit(backend: DemoOrderBackend) -> None:
    newest = await backend.orders_of("c1001", limit=3)
    assert [o.id for o in newest] == [o.id for o in (await backend.orders_of("c1001"))[:3]]
