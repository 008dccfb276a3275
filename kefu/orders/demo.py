"""A demo order system in Redis (`kefu:demo:*`), seeded with realistic orders in every after-sales state."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import redis.asyncio as aioredis

from kefu.core import keys
from kefu.core.tickets import Ticket, TicketNote, TicketStore
from kefu.orders import aftersales
from kefu.orders.base import (
    AfterSalesRequest,
    BackendUnavailable,
    Order,
    OrderBackend,
    OrderItem,
    OrderNotFound,
    ShopRefused,
    TrackingEvent,
)

log = logging.getLogger(__name__)

PREFIX = keys.DEMO_PREFIX
# How long the result of an operation is remembered under its idempotency key (a replay comes within minutes).
OPERATION_TTL_S = 7 * 24 * 3600
# While one call runs an operation, another under the same key waits for its result this long.
OPERATION_WAIT_S = 10.0
# The record of executed operations keeps about this many (the newest): enough for a bench run or a day's demo.
OPERATIONS_DONE_MAXLEN = 10_000
_PENDING = "pending"
Result = TypeVar("Result", Order, AfterSalesRequest)


def order_key(order_id: str) -> str:
    return f"{PREFIX}order:{order_id}"


def customer_key(customer_id: str) -> str:
    return f"{PREFIX}customer:{customer_id}"


def customer_orders_key(customer_id: str) -> str:
    return f"{PREFIX}customer:{customer_id}:orders"


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _note_done(pipe: Any, operation: str, order_id: str, idempotency_key: str) -> None:
    """Queue one executed operation onto ``pipe`` for the bounded record (``keys.ORDER_OPERATIONS_DONE``)."""
    pipe.xadd(keys.ORDER_OPERATIONS_DONE, {"operation": operation, "order_id": order_id.upper(), "key": idempotency_key},
              maxlen=OPERATIONS_DONE_MAXLEN, approximate=True)


async def operations_done(redis: aioredis.Redis) -> list[dict[str, str]]:
    """The executed operations still in the record, oldest first: ``operation``, ``order_id``, ``key``."""
    entries = await redis.xrange(keys.ORDER_OPERATIONS_DONE)
    return [{_decode(field): _decode(value) for field, value in fields.items()} for _, fields in entries]


class DemoOrderBackend(OrderBackend):
    """Orders as JSON in Redis; mutations follow the same rules a real shop applies (kefu/orders/aftersales.py)."""

    def __init__(self, redis: aioredis.Redis, clock: Any = None, operation_ttl_s: int = OPERATION_TTL_S) -> None:
        self._redis = redis
        self._clock = clock or (lambda: datetime.now(UTC))
        self._operation_ttl_s = operation_ttl_s

    async def get_order(self, order_id: str) -> Order:
        raw = await self._redis.get(order_key(order_id.upper()))
        if raw is None:
            raise OrderNotFound(order_id)
        return Order.from_dict(json.loads(raw))

    async def orders_of(self, customer_id: str, limit: int | None = None) -> list[Order]:
        ids = await self._redis.zrevrange(customer_orders_key(customer_id), 0, -1 if limit is None else limit - 1)
        return [await self.get_order(_decode(order_id)) for order_id in ids]

    async def _once(self, idempotency_key: str | None, kind: type[Result], operation: str, order_id: str,
                    run: Callable[[], Awaitable[Result]]) -> Result:
        """Run the operation once per key: its result is kept (``OPERATION_TTL_S``) and answered again to a
        repeat; a repeat arriving while the first still runs waits for it. Refusals and errors are not kept.

        Each operation that really ran is appended to ``keys.ORDER_OPERATIONS_DONE`` (a stream of ``operation``,
        ``order_id``, ``key``; capped near ``OPERATIONS_DONE_MAXLEN``) with its result, in one transaction, and a
        repeat answered from the stored result is not: so the stream counts what the shop was asked to do, and
        the fault bench (bench/faults.py) finds an order acted on twice there."""
        if not idempotency_key:
            result = await run()
            async with self._redis.pipeline(transaction=False) as pipe:
                _note_done(pipe, operation, order_id, "")
                await pipe.execute()
            return result
        key = keys.order_operation(idempotency_key)
        if not await self._redis.set(key, _PENDING, nx=True, ex=int(OPERATION_WAIT_S * 3)):
            return kind.from_dict(await self._result_of(key))
        try:
            result = await run()
        except BaseException:
            await self._redis.delete(key)
            raise
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, json.dumps(result.to_dict(), ensure_ascii=False), ex=self._operation_ttl_s)
            _note_done(pipe, operation, order_id, idempotency_key)
            await pipe.execute()
        return result

    async def _result_of(self, key: str) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + OPERATION_WAIT_S
        while loop.time() < deadline:
            raw = await self._redis.get(key)
            if raw is None:
                break  # the first call failed: nothing was done, so the caller may ask again
            if raw != _PENDING:
                return json.loads(raw)
            await asyncio.sleep(0.05)
        raise BackendUnavailable("the same operation is still running or failed; ask again")

    async def _save(self, order: Order) -> Order:
        await self._redis.set(order_key(order.id), json.dumps(order.to_dict(), ensure_ascii=False))
        return order

    async def _record(self, order_id: str, kind: str, status: str, pickup: bool = False,
                      **detail: Any) -> AfterSalesRequest:
        number = await self._redis.incr(f"{PREFIX}request:counter")
        request = AfterSalesRequest(
            id=f"AS{number:06d}", order_id=order_id, kind=kind, status=status,
            created_at=self._clock(), pickup=pickup, detail=detail,
        )
        await self._redis.set(f"{PREFIX}request:{request.id}", json.dumps(request.to_dict(), ensure_ascii=False))
        return request

    async def cancel(self, order_id: str, *, idempotency_key: str | None = None) -> Order:
        return await self._once(idempotency_key, Order, "cancel", order_id, lambda: self._cancel(order_id))

    async def _cancel(self, order_id: str) -> Order:
        order = await self.get_order(order_id)
        decision = aftersales.can_cancel(order)
        if not decision.allowed:
            raise ShopRefused(f"order is {decision.reason}")
        return await self._save(replace(order, status="cancelled", cancelled_at=self._clock()))

    async def change_address(self, order_id: str, address: str, *, idempotency_key: str | None = None) -> Order:
        return await self._once(idempotency_key, Order, "change_address", order_id,
                                lambda: self._change_address(order_id, address))

    async def _change_address(self, order_id: str, address: str) -> Order:
        order = await self.get_order(order_id)
        decision = aftersales.can_change_address(order)
        if not decision.allowed:
            raise ShopRefused(f"order is {decision.reason}")
        return await self._save(replace(order, address=address))

    async def request_refund(self, order_id: str, reason: str, *,
                             idempotency_key: str | None = None) -> AfterSalesRequest:
        return await self._once(idempotency_key, AfterSalesRequest, "refund", order_id,
                                lambda: self._request_refund(order_id, reason))

    async def _request_refund(self, order_id: str, reason: str) -> AfterSalesRequest:
        order = await self.get_order(order_id)
        now = self._clock()
        decision = aftersales.refund_decision(order, now)
        if decision.refunds:
            await self._save(replace(order, status="refunded", refunded_at=now))
            return await self._record(order.id, "refund", "refunded", reason=reason)
        if decision.outcome == "review":
            await self._save(replace(order, refund_requested_at=now))
            return await self._record(order.id, "refund", "pending_review", reason=reason,
                                      reply_by=decision.reply_by.isoformat() if decision.reply_by else None)
        raise ShopRefused(f"no refund for this order: {decision.outcome}")

    async def request_return(self, order_id: str, kind: Literal["return", "exchange"], pickup: bool, *,
                             idempotency_key: str | None = None) -> AfterSalesRequest:
        return await self._once(idempotency_key, AfterSalesRequest, kind, order_id,
                                lambda: self._request_return(order_id, kind, pickup))

    async def _request_return(self, order_id: str, kind: Literal["return", "exchange"],
                              pickup: bool) -> AfterSalesRequest:
        order = await self.get_order(order_id)
        decision = aftersales.return_decision(order, self._clock())
        if not decision.allowed:
            raise ShopRefused(f"no {kind} for this order: {decision.reason}")
        return await self._record(order.id, kind, "accepted", pickup=pickup)

    async def request_invoice(self, order_id: str, title: str, tax_id: str | None, *,
                              idempotency_key: str | None = None) -> AfterSalesRequest:
        return await self._once(idempotency_key, AfterSalesRequest, "invoice", order_id,
                                lambda: self._request_invoice(order_id, title, tax_id))

    async def _request_invoice(self, order_id: str, title: str, tax_id: str | None) -> AfterSalesRequest:
        order = await self.get_order(order_id)
        if order.status not in ("paid", "shipped", "delivered"):
            raise ShopRefused(f"no invoice for an order that is {order.status}")
        return await self._record(order.id, "invoice", "issuing", title=title, tax_id=tax_id)


# --- demo data -------------------------------------------------------------------------------------------

DEMO_CUSTOMERS: dict[str, dict[str, str]] = {
    "c1001": {"id": "c1001", "name": "张伟", "phone": "13812345678", "lang": "zh"},
    "c1002": {"id": "c1002", "name": "Emma Wilson", "phone": "13900001111", "lang": "en"},
    "c1003": {"id": "c1003", "name": "李娜", "phone": "13765432109", "lang": "zh"},
    "c1004": {"id": "c1004", "name": "James Chen", "phone": "13655558888", "lang": "en"},
}

ADDRESSES = {
    "c1001": "北京市朝阳区建国路 88 号 SOHO 现代城 2 号楼 1203",
    "c1002": "上海市静安区南京西路 1266 号 恒隆广场公寓 5B",
    "c1003": "广州市天河区体育西路 103 号 维多利广场 A 座 1808",
    "c1004": "深圳市南山区科技园南区 深南大道 9988 号 18 楼",
}

PHONE = OrderItem("华为 MatePad 11 平板电脑", "Huawei MatePad 11 tablet", 1, 2299.0)
EARBUDS = OrderItem("小米 Redmi Buds 5 蓝牙耳机", "Xiaomi Redmi Buds 5 earbuds", 1, 199.0)
KETTLE = OrderItem("美的 电热水壶 1.7L", "Midea electric kettle 1.7 L", 1, 129.0)
RICE_COOKER = OrderItem("苏泊尔 智能电饭煲 4L", "Supor smart rice cooker 4 L", 1, 399.0)
TEA = OrderItem("西湖龙井 明前茶 250g", "West Lake Longjing tea 250 g", 2, 168.0)
SHOES = OrderItem("李宁 跑步鞋 42 码", "Li-Ning running shoes, size 42", 1, 459.0)
BOOK = OrderItem("《三体》全集", "The Three-Body Problem trilogy", 1, 93.0)
BLENDER = OrderItem("九阳 破壁料理机", "Joyoung high-speed blender", 1, 699.0)
JACKET = OrderItem("波司登 羽绒服 L 码", "Bosideng down jacket, size L", 1, 1299.0)
DIAPERS = OrderItem("帮宝适 纸尿裤 L 码 2 包", "Pampers diapers size L, 2 packs", 2, 139.0)


def _events(start: datetime, steps: list[tuple[float, str, str, str]]) -> tuple[TrackingEvent, ...]:
    """Carrier scans `hours` after start: (hours, place, Chinese text, English text)."""
    return tuple(TrackingEvent(start + timedelta(hours=h), place, zh, en) for h, place, zh, en in steps)


def _journey(origin: str, city: str) -> list[tuple[float, str, str, str]]:
    return [
        (0, origin, "快递员已揽收", "Picked up by the courier"),
        (6, origin, "已到达分拣中心", "Arrived at the sorting centre"),
        (20, city, "已到达目的地转运中心", "Arrived at the destination hub"),
        (30, city, "派送中，快递员正在为您派件", "Out for delivery"),
        (34, city, "已签收，签收人：本人", "Delivered, signed for by the recipient"),
    ]


def demo_orders(now: datetime) -> list[Order]:
    """Twenty orders covering every state, with times relative to now."""
    h = lambda hours: now - timedelta(hours=hours)
    d = lambda days: now - timedelta(days=days)
    orders: list[Order] = []

    def add(number: int, customer: str, status: str, items: tuple[OrderItem, ...], created: datetime,
            **fields: Any) -> None:
        orders.append(Order(
            id=f"DD20261104{number:03d}", customer_id=customer, phone=DEMO_CUSTOMERS[customer]["phone"],
            status=status, created_at=created, address=ADDRESSES[customer],
            total=round(sum(i.price * i.qty for i in items if not i.gift), 2), items=items, **fields,
        ))

    def shipped(carrier: str, tracking_no: str, at: datetime, steps: int, city: str) -> dict[str, Any]:
        return {"carrier": carrier, "tracking_no": tracking_no, "shipped_at": at,
                "tracking": _events(at, _journey("杭州", city)[:steps])}

    # 张伟 (c1001): several open orders, so the bot must ask which one.
    add(1, "c1001", "unpaid", (KETTLE,), h(2), pay_deadline=h(2) + timedelta(hours=24))
    add(2, "c1001", "paid", (RICE_COOKER,), h(6), paid_at=h(6), promised_by=now + timedelta(days=3))
    add(3, "c1001", "shipped", (TEA,), h(30), paid_at=h(30), promised_by=now + timedelta(days=2),
        **shipped("SF", "SF1408823901", h(26), 3, "北京"))
    add(4, "c1001", "shipped", (BLENDER,), d(6), paid_at=d(6), promised_by=d(2),
        carrier="YTO", tracking_no="YT7723015568", shipped_at=d(5),
        tracking=_events(d(5), _journey("金华", "北京")[:2]))
    add(5, "c1001", "shipped", (PHONE, EARBUDS), h(50), paid_at=h(50), promised_by=now + timedelta(days=1),
        **shipped("SF", "SF1409917266", h(44), 4, "北京"))
    gift = replace(
        OrderItem("品牌保温杯", "insulated bottle", 1, 0.0, fulfilled_by="杯来杯往旗舰店",
                  gift=True, carrier="ZTO", tracking_no="ZT5500128873"),
        tracking=_events(d(5), [(0, "义乌", "快递员已揽收", "Picked up by the courier"),
                                (8, "义乌", "已到达分拣中心", "Arrived at the sorting centre")]),
    )
    add(6, "c1001", "delivered", (JACKET, gift), d(6), paid_at=d(6), delivered_at=d(2),
        promised_by=d(1), **shipped("JD", "JDVA0218839912", d(4), 5, "北京"))
    add(7, "c1001", "delivered", (BOOK,), d(25), paid_at=d(25), delivered_at=d(20), promised_by=d(19),
        **shipped("ZTO", "ZT5500098812", d(23), 5, "北京"))
    add(8, "c1001", "cancelled", (DIAPERS,), d(12), cancelled_at=d(12) + timedelta(hours=1))
    add(9, "c1001", "refunded", (SHOES,), d(15), paid_at=d(15), refunded_at=d(14))
    # Emma Wilson (c1002): exactly one open order, so "where is my order?" needs no id.
    add(10, "c1002", "shipped", (SHOES,), d(4), paid_at=d(4), promised_by=h(20),
        **shipped("SF", "SF1412200457", d(3), 3, "上海"))
    add(11, "c1002", "delivered", (TEA,), d(6), paid_at=d(6), delivered_at=d(3), promised_by=d(2),
        **shipped("SF", "SF1411098234", d(5), 5, "上海"))
    add(12, "c1002", "delivered", (KETTLE,), d(40), paid_at=d(40), delivered_at=d(30), promised_by=d(33),
        **shipped("YTO", "YT7720098123", d(38), 5, "上海"))
    add(13, "c1002", "cancelled", (BOOK,), d(9), cancelled_at=d(9) + timedelta(minutes=20))
    # 李娜 (c1003)
    add(14, "c1003", "paid", (BLENDER,), h(3), paid_at=h(3), promised_by=now + timedelta(days=4))
    add(15, "c1003", "shipped", (EARBUDS,), h(90), paid_at=h(90), promised_by=h(10),
        carrier="ZTO", tracking_no="ZT5500133390", shipped_at=h(80))
    add(16, "c1003", "delivered", (JACKET,), d(9), paid_at=d(9), delivered_at=d(6), promised_by=d(6) + timedelta(hours=6),
        **shipped("JD", "JDVA0219941276", d(7), 5, "广州"))
    add(17, "c1003", "refunded", (TEA,), d(20), paid_at=d(20), refunded_at=d(18))
    # James Chen (c1004)
    add(18, "c1004", "unpaid", (DIAPERS,), h(1), pay_deadline=h(1) + timedelta(hours=24))
    add(19, "c1004", "shipped", (RICE_COOKER,), h(20), paid_at=h(20), promised_by=now + timedelta(days=2),
        **shipped("JD", "JDVA0220011458", h(16), 2, "深圳"))
    add(20, "c1004", "delivered", (PHONE,), d(14), paid_at=d(14), delivered_at=d(10), promised_by=d(10),
        **shipped("SF", "SF1407761234", d(12), 5, "深圳"))
    return orders


async def seed_demo(redis: aioredis.Redis, now: datetime | None = None) -> dict[str, Any]:
    """(Re)load the demo customers, orders and ticket T-100871, replacing whatever demo data was there."""
    now = now or datetime.now(UTC)
    stale = [key async for key in redis.scan_iter(match=f"{PREFIX}*", count=1000)]
    if stale:
        await redis.delete(*stale)
    orders = demo_orders(now)
    async with redis.pipeline(transaction=True) as pipe:
        for customer in DEMO_CUSTOMERS.values():
            pipe.set(customer_key(customer["id"]), json.dumps(customer, ensure_ascii=False))
        for order in orders:
            pipe.set(order_key(order.id), json.dumps(order.to_dict(), ensure_ascii=False))
            pipe.zadd(customer_orders_key(order.customer_id), {order.id: order.created_at.timestamp()})
        await pipe.execute()
    opened = now - timedelta(days=3)
    ticket = Ticket(
        id="T-100871", customer_id="c1001", conversation_id="demo-c1001", reason="complaint", priority="high",
        trigger_text="我退货一周了，退款还没到账，太慢了！", channel="web", status="processing",
        created_at=opened, updated_at=now - timedelta(hours=5),
        notes=(
            TicketNote(opened, "open", "投诉已登记：退款迟迟未到账 / Complaint logged: refund not received"),
            TicketNote(now - timedelta(hours=5), "processing",
                       "财务已确认退款，正在加急处理，预计 1 个工作日内到账"),
        ),
    )
    await TicketStore(redis).put(ticket)
    log.info("seeded %s demo orders for %s customers", len(orders), len(DEMO_CUSTOMERS))
    return {"customers": sorted(DEMO_CUSTOMERS), "orders": [o.id for o in orders], "tickets": [ticket.id]}


# --- demo order events (the shop's webhook contract: kefu/commitments/events.py) ---------------------------

DEMO_EVENT_TYPES = ("shipped", "delayed", "delivered", "refund_completed", "return_received")


async def demo_event(redis: aioredis.Redis, order_id: str, kind: str, now: datetime | None = None) -> dict[str, Any]:
    """Move a demo order on as a shop would (shipped, delivered, refunded) and return the order event the shop
    would send about it, in the webhook's JSON: the demo's updates go through the same code path."""
    if kind not in DEMO_EVENT_TYPES:
        raise ValueError(f"an order event is one of {', '.join(DEMO_EVENT_TYPES)}, not {kind!r}")
    now = now or datetime.now(UTC)
    order = await DemoOrderBackend(redis).get_order(order_id)
    data: dict[str, Any] = {}
    if kind == "shipped":
        carrier, tracking_no = order.carrier or "SF", order.tracking_no or f"SF{int(now.timestamp()) % 10**10:010d}"
        tracking = order.tracking or _events(now, _journey("杭州", "北京")[:1])
        order = replace(order, status="shipped", shipped_at=order.shipped_at or now, carrier=carrier,
                        tracking_no=tracking_no, tracking=tracking)
        data = {"carrier": carrier, "tracking_no": tracking_no}
    elif kind == "delayed":
        data = {"expected_by": (now + timedelta(days=2)).isoformat()}
    elif kind == "delivered":
        order = replace(order, status="delivered", delivered_at=now)
    elif kind == "refund_completed":
        order = replace(order, status="refunded", refunded_at=now)
        data = {"amount": order.total}
    await redis.set(order_key(order.id), json.dumps(order.to_dict(), ensure_ascii=False))
    return {"id": f"demo-{order.id}-{kind}-{int(now.timestamp() * 1000)}", "type": kind, "order_id": order.id,
            "occurred_at": now.isoformat(), "data": data}
