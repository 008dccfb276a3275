"""The HTTP order backend against a fake shop API speaking the documented contract."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web

from kefu.orders.base import BackendUnavailable, Order, OrderNotFound, ShopRefused
from kefu.orders.demo import demo_orders
from kefu.orders.http import HttpOrderBackend
from tests.helpers.redis_server import free_port

NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
TOKEN = "s3cret"
SEEN = web.AppKey("seen", list)
KEYS = web.AppKey("keys", list)
LIMITS = web.AppKey("limits", list)


def fake_shop() -> web.Application:
    orders = {order.id: order for order in demo_orders(NOW)}
    seen: list[tuple[str, str, object]] = []
    idempotency_keys: list[str | None] = []
    limits: list[str | None] = []

    @web.middleware
    async def auth(request: web.Request, handler):  # type: ignore[no-untyped-def]
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"reason": "bad token"}, status=401)
        return await handler(request)

    def find(request: web.Request) -> Order:
        order_id = request.match_info["id"]
        if order_id == "DD50000000000":
            raise web.HTTPInternalServerError()
        if order_id == "DD40800000000":
            raise web.HTTPRequestTimeout()
        if order_id not in orders:
            raise web.HTTPNotFound()
        return orders[order_id]

    async def get_order(request: web.Request) -> web.Response:
        if request.match_info["id"] == "DD99900000000":
            await asyncio.sleep(2)
        return web.json_response(find(request).to_dict())

    async def customer_orders(request: web.Request) -> web.Response:
        mine = [o for o in orders.values() if o.customer_id == request.match_info["id"]]
        mine.sort(key=lambda o: o.created_at, reverse=True)
        limits.append(request.query.get("limit"))
        return web.json_response({"orders": [o.to_dict() for o in mine]})

    async def act(request: web.Request) -> web.Response:
        order = find(request)
        body = await request.json()
        action = request.match_info["action"]
        seen.append((order.id, action, body))
        idempotency_keys.append(request.headers.get("Idempotency-Key"))
        if order.status not in ("unpaid", "paid") and action in ("cancel", "address"):
            return web.json_response({"reason": "already shipped"}, status=409)
        if action in ("cancel", "address"):
            data = order.to_dict()
            data["status"] = "cancelled" if action == "cancel" else data["status"]
            data["address"] = body.get("address", data["address"])
            return web.json_response(data)
        return web.json_response({"id": "R1", "order_id": order.id, "kind": body.get("kind", action),
                                  "status": "accepted", "created_at": NOW.isoformat(),
                                  "pickup": body.get("pickup", False), "detail": body})

    app = web.Application(middlewares=[auth])
    app.router.add_get("/orders/{id}", get_order)
    app.router.add_get("/customers/{id}/orders", customer_orders)
    app.router.add_post("/orders/{id}/{action}", act)
    app[SEEN] = seen
    app[KEYS] = idempotency_keys
    app[LIMITS] = limits
    return app


@pytest.fixture
async def shop() -> AsyncIterator[tuple[str, web.Application]]:
    app = fake_shop()
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", app
    await runner.cleanup()


@pytest.fixture
async def backend(shop: tuple[str, web.Application]) -> AsyncIterator[HttpOrderBackend]:
    client = HttpOrderBackend(shop[0], TOKEN, timeout_s=0.5)
    yield client
    await client.close()


async def test_get_order_parses_the_contract(backend: HttpOrderBackend) -> None:
    order = await backend.get_order("DD20261104006")
    assert order == next(o for o in demo_orders(NOW) if o.id == "DD20261104006")
    assert order.partner_items and order.partner_items[0].tracking


async def test_orders_of_customer(backend: HttpOrderBackend) -> None:
    orders = await backend.orders_of("c1002")
    assert [o.id for o in orders] == ["DD20261104010", "DD20261104011", "DD20261104013", "DD20261104012"]
    assert await backend.orders_of("nobody") == []


async def test_404_is_order_not_found(backend: HttpOrderBackend) -> None:
    with pytest.raises(OrderNotFound):
        await backend.get_order("DD11111111111")


async def test_409_is_shop_refused_with_reason(backend: HttpOrderBackend) -> None:
    with pytest.raises(ShopRefused) as refused:
        await backend.cancel("DD20261104005")
    assert refused.value.reason == "already shipped"


async def test_actions_post_the_documented_bodies(backend: HttpOrderBackend,
                                                  shop: tuple[str, web.Application]) -> None:
    assert (await backend.cancel("DD20261104001")).status == "cancelled"
    assert (await backend.change_address("DD20261104002", "新地址 1 号")).address == "新地址 1 号"
    assert (await backend.request_refund("DD20261104002", "不要了")).order_id == "DD20261104002"
    ret = await backend.request_return("DD20261104006", "exchange", True)
    assert ret.kind == "exchange" and ret.pickup
    inv = await backend.request_invoice("DD20261104005", "某某有限公司", "91310000MA1FL8X72K")
    assert inv.detail == {"title": "某某有限公司", "tax_id": "91310000MA1FL8X72K"}
    assert [(a, b) for _, a, b in shop[1][SEEN]] == [
        ("cancel", {}), ("address", {"address": "新地址 1 号"}), ("refund", {"reason": "不要了"}),
        ("return", {"kind": "exchange", "pickup": True}),
        ("invoice", {"title": "某某有限公司", "tax_id": "91310000MA1FL8X72K"}),
    ]


@pytest.mark.parametrize("order_id", ["DD50000000000", "DD40800000000", "DD99900000000"])
async def test_5xx_odd_status_and_timeout_are_unavailable(backend: HttpOrderBackend, order_id: str) -> None:
    with pytest.raises(BackendUnavailable):
        await backend.get_order(order_id)


async def test_wrong_token_is_unavailable_not_a_crash(shop: tuple[str, web.Application]) -> None:
    client = HttpOrderBackend(shop[0], "wrong", timeout_s=0.5)
    try:
        with pytest.raises(BackendUnavailable):
            await client.get_order("DD20261104005")
    finally:
        await client.close()


async def test_closed_port_is_unavailable() -> None:
    client = HttpOrderBackend(f"http://127.0.0.1:{free_port()}", TOKEN, timeout_s=0.5)
    try:
        with pytest.raises(BackendUnavailable):
            await client.orders_of("c1001")
    finally:
        await client.close()


async def test_one_session_is_reused_and_closed(backend: HttpOrderBackend) -> None:
    await backend.get_order("DD20261104005")
    first = backend._session
    await backend.get_order("DD20261104006")
    assert backend._session is first
    await backend.close()
    assert first is not None and first.closed


async def test_every_operation_sends_its_idempotency_key(backend: HttpOrderBackend,
                                                         shop: tuple[str, web.Application]) -> None:
    """The contract (module docstring): the shop does an operation once per ``Idempotency-Key``."""
    await backend.cancel("DD20261104001", idempotency_key="k-cancel")
    await backend.change_address("DD20261104002", "新地址 1 号", idempotency_key="k-address")
    await backend.request_refund("DD20261104002", "不要了", idempotency_key="k-refund")
    await backend.request_return("DD20261104006", "return", False, idempotency_key="k-return")
    await backend.request_invoice("DD20261104005", "个人", None, idempotency_key="k-invoice")
    await backend.cancel("DD20261104001")  # no key (not from a customer's message): no header
    assert shop[1][KEYS] == ["k-cancel", "k-address", "k-refund", "k-return", "k-invoice", None]


async def test_orders_of_asks_for_at_most_the_limit(backend: HttpOrderBackend,
                                                    shop: tuple[str, web.Application]) -> None:
    assert [o.id for o in await backend.orders_of("c1002", limit=2)] == ["DD20261104010", "DD20261104011"]
    assert shop[1][LIMITS] == ["2"]
