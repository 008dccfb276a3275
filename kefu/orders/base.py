"""The order data the bot reasons about and the interface every order backend implements."""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

OrderStatus = Literal["unpaid", "paid", "shipped", "delivered", "cancelled", "refunded"]
ORDER_STATUSES: tuple[str, ...] = ("unpaid", "paid", "shipped", "delivered", "cancelled", "refunded")
CLOSED_STATUSES: frozenset[str] = frozenset({"delivered", "cancelled", "refunded"})
SHOP = "shop"


class OrderNotFound(LookupError):
    """The backend has no order with this id."""


class BackendUnavailable(RuntimeError):
    """The order system cannot be reached right now (connection refused, timeout, 5xx)."""


class ShopRefused(RuntimeError):
    """The shop declined a request (HTTP 409), e.g. the parcel left the warehouse a minute ago."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class TrackingEvent:
    """One scan reported by a carrier; texts in both languages so the bot can answer in either."""

    time: datetime
    place: str
    text_zh: str
    text_en: str

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time.isoformat(), "place": self.place, "text_zh": self.text_zh, "text_en": self.text_en}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrackingEvent:
        return cls(time=datetime.fromisoformat(data["time"]), place=data.get("place", ""),
                   text_zh=data.get("text_zh", ""), text_en=data.get("text_en", ""))


@dataclass(frozen=True)
class OrderItem:
    """One line of an order. Partner lines (fulfilled_by != "shop") ship separately with their own tracking."""

    name_zh: str
    name_en: str
    qty: int
    price: float
    fulfilled_by: str = SHOP
    gift: bool = False
    carrier: str | None = None
    tracking_no: str | None = None
    tracking: tuple[TrackingEvent, ...] = ()

    @property
    def by_partner(self) -> bool:
        return self.fulfilled_by != SHOP

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    def to_dict(self) -> dict[str, Any]:
        return {
            "name_zh": self.name_zh, "name_en": self.name_en, "qty": self.qty, "price": self.price,
            "fulfilled_by": self.fulfilled_by, "gift": self.gift, "carrier": self.carrier,
            "tracking_no": self.tracking_no, "tracking": [e.to_dict() for e in self.tracking],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrderItem:
        return cls(
            name_zh=data["name_zh"], name_en=data.get("name_en") or data["name_zh"], qty=int(data.get("qty", 1)),
            price=float(data.get("price", 0)), fulfilled_by=data.get("fulfilled_by") or SHOP,
            gift=bool(data.get("gift", False)), carrier=data.get("carrier"), tracking_no=data.get("tracking_no"),
            tracking=tuple(TrackingEvent.from_dict(e) for e in data.get("tracking", ())),
        )


@dataclass(frozen=True)
class Order:
    """An order as the shop reports it. `tracking` is the shop parcel's events, oldest first."""

    id: str
    customer_id: str
    phone: str
    status: OrderStatus
    created_at: datetime
    address: str
    total: float
    items: tuple[OrderItem, ...] = ()
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    refunded_at: datetime | None = None
    carrier: str | None = None
    tracking_no: str | None = None
    tracking: tuple[TrackingEvent, ...] = ()
    # The delivery date the shop promised, and when an unpaid order is cancelled automatically (field note 7).
    promised_by: datetime | None = None
    pay_deadline: datetime | None = None
    refund_requested_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_open(self) -> bool:
        """Still in motion: not yet delivered, cancelled or refunded."""
        return self.status not in CLOSED_STATUSES

    @property
    def partner_items(self) -> tuple[OrderItem, ...]:
        return tuple(item for item in self.items if item.by_partner)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "customer_id": self.customer_id, "phone": self.phone, "status": self.status,
            "created_at": _iso(self.created_at), "address": self.address, "total": self.total,
            "items": [item.to_dict() for item in self.items],
            "paid_at": _iso(self.paid_at), "shipped_at": _iso(self.shipped_at),
            "delivered_at": _iso(self.delivered_at), "cancelled_at": _iso(self.cancelled_at),
            "refunded_at": _iso(self.refunded_at), "carrier": self.carrier, "tracking_no": self.tracking_no,
            "tracking": [e.to_dict() for e in self.tracking], "promised_by": _iso(self.promised_by),
            "pay_deadline": _iso(self.pay_deadline), "refund_requested_at": _iso(self.refund_requested_at),
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        """Parse the JSON shape both backends use; raises KeyError/ValueError on a malformed order."""
        status = data["status"]
        if status not in ORDER_STATUSES:
            raise ValueError(f"order {data.get('id')}: unknown status {status!r}")
        return cls(
            id=data["id"], customer_id=str(data["customer_id"]), phone=str(data.get("phone", "")),
            status=status, created_at=datetime.fromisoformat(data["created_at"]),
            address=data.get("address", ""), total=float(data.get("total", 0)),
            items=tuple(OrderItem.from_dict(i) for i in data.get("items", ())),
            paid_at=_time(data.get("paid_at")), shipped_at=_time(data.get("shipped_at")),
            delivered_at=_time(data.get("delivered_at")), cancelled_at=_time(data.get("cancelled_at")),
            refunded_at=_time(data.get("refunded_at")), carrier=data.get("carrier"),
            tracking_no=data.get("tracking_no"),
            tracking=tuple(TrackingEvent.from_dict(e) for e in data.get("tracking", ())),
            promised_by=_time(data.get("promised_by")), pay_deadline=_time(data.get("pay_deadline")),
            refund_requested_at=_time(data.get("refund_requested_at")), extra=dict(data.get("extra") or {}),
        )


@dataclass(frozen=True)
class AfterSalesRequest:
    """What the shop recorded for a refund, return, exchange or invoice request."""

    id: str
    order_id: str
    kind: str
    status: str
    created_at: datetime
    pickup: bool = False
    detail: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "order_id": self.order_id, "kind": self.kind, "status": self.status,
                "created_at": self.created_at.isoformat(), "pickup": self.pickup, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AfterSalesRequest:
        return cls(id=str(data["id"]), order_id=data["order_id"], kind=data["kind"], status=data["status"],
                   created_at=datetime.fromisoformat(data["created_at"]), pickup=bool(data.get("pickup")),
                   detail=dict(data.get("detail") or {}))


class OrderBackend(abc.ABC):
    """The order system the bot reads and asks to act. Every method may raise BackendUnavailable;
    methods taking an order id raise OrderNotFound; requests the shop declines raise ShopRefused.

    Operations take an ``idempotency_key`` (the actions derive it from the customer message's key, which the
    pipeline sends with every turn): the same operation asked again under the same key is done once and answers
    what it answered the first time, however often a turn is replayed or an action re-run.
    """

    @abc.abstractmethod
    async def get_order(self, order_id: str) -> Order: ...

    @abc.abstractmethod
    async def orders_of(self, customer_id: str, limit: int | None = None) -> list[Order]:
        """The customer's orders, newest first; at most ``limit`` of them when given."""

    @abc.abstractmethod
    async def cancel(self, order_id: str, *, idempotency_key: str | None = None) -> Order: ...

    @abc.abstractmethod
    async def change_address(self, order_id: str, address: str, *, idempotency_key: str | None = None) -> Order: ...

    @abc.abstractmethod
    async def request_refund(self, order_id: str, reason: str, *,
                             idempotency_key: str | None = None) -> AfterSalesRequest: ...

    @abc.abstractmethod
    async def request_return(
        self, order_id: str, kind: Literal["return", "exchange"], pickup: bool, *, idempotency_key: str | None = None,
    ) -> AfterSalesRequest: ...

    @abc.abstractmethod
    async def request_invoice(self, order_id: str, title: str, tax_id: str | None, *,
                              idempotency_key: str | None = None) -> AfterSalesRequest: ...

    async def close(self) -> None:
        """Release connections; a no-op for backends that hold none."""
