"""An order backend that calls the shop's REST API.

The contract (JSON over HTTPS, every request carries `Authorization: Bearer <KEFU_ORDER_API_TOKEN>`):

    GET  /orders/{id}                 -> 200 Order
    GET  /customers/{id}/orders[?limit=N] -> 200 {"orders": [Order, ...]}   newest first, at most N when asked
    POST /orders/{id}/cancel          {}                                    -> 200 Order
    POST /orders/{id}/address         {"address": str}                      -> 200 Order
    POST /orders/{id}/refund          {"reason": str}                       -> 200 Request
    POST /orders/{id}/return          {"kind": "return"|"exchange", "pickup": bool} -> 200 Request
    POST /orders/{id}/invoice         {"title": str, "tax_id": str|null}    -> 200 Request

Order is `actions.backends.base.Order.to_dict()`: id, customer_id, phone, status (unpaid|paid|shipped|delivered|
cancelled|refunded), ISO-8601 times with offset (created_at, paid_at, shipped_at, delivered_at, cancelled_at,
refunded_at, promised_by, pay_deadline, refund_requested_at; null when not applicable), carrier, tracking_no,
tracking [{time, place, text_zh, text_en}], items [{name_zh, name_en, qty, price, fulfilled_by ("shop" or the
partner's name), gift, carrier, tracking_no, tracking}], address, total. Request is
{id, order_id, kind, status, created_at, pickup, detail}.

Idempotency: every POST carries an `Idempotency-Key: <32 hex characters>` header (when the bot has one, which it
always has for a customer's message: the key is derived from the channel's message id, the operation and the
order). The shop must do the operation at most once per key: a POST repeating a key it has already done answers
the first result again (200, the same Order or Request) without acting again; one repeating a key still in
progress may answer 409 or wait. Kefu repeats a request with the same key only when it cannot know whether the
first one was done (a replayed message, an action run again after a timeout). Keep keys at least 7 days.

Errors: 404 -> OrderNotFound; 409 {"reason": str} -> ShopRefused (the shop will not do it, e.g. already shipped);
connection errors, timeouts and 5xx -> BackendUnavailable. Any other status is treated as unavailable too, and
logged, because the bot cannot do anything better with it.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Literal
from urllib.parse import quote

import aiohttp

from kefu.orders.base import (
    AfterSalesRequest,
    BackendUnavailable,
    Order,
    OrderBackend,
    OrderNotFound,
    ShopRefused,
)

log = logging.getLogger(__name__)


class HttpOrderBackend(OrderBackend):
    """One shared ClientSession per backend, opened on first use inside the running event loop."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
                    idempotency_key: str | None = None, params: dict[str, str] | None = None) -> Any:
        url = f"{self._base_url}{path}"
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        try:
            async with self._client().request(method, url, json=body, headers=headers, params=params) as response:
                if response.status == 404:
                    raise OrderNotFound(path)
                if response.status == 409:
                    raise ShopRefused(await self._reason(response))
                if response.status != 200:
                    log.warning("order API %s %s answered %s", method, path, response.status)
                    raise BackendUnavailable(f"order API answered {response.status}")
                return await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, json.JSONDecodeError) as error:
            log.warning("order API %s %s failed: %s", method, path, error)
            raise BackendUnavailable(str(error) or type(error).__name__) from error

    @staticmethod
    async def _reason(response: aiohttp.ClientResponse) -> str:
        try:
            data = await response.json(content_type=None)
        except (aiohttp.ContentTypeError, json.JSONDecodeError, UnicodeDecodeError):
            return ""
        return str(data.get("reason", "")) if isinstance(data, dict) else ""

    @staticmethod
    def _order(data: Any) -> Order:
        try:
            return Order.from_dict(data)
        except (KeyError, TypeError, ValueError) as error:
            raise BackendUnavailable(f"malformed order from the order API: {error!r}") from error

    @staticmethod
    def _request(data: Any) -> AfterSalesRequest:
        try:
            return AfterSalesRequest.from_dict(data)
        except (KeyError, TypeError, ValueError) as error:
            raise BackendUnavailable(f"malformed request from the order API: {error!r}") from error

    @staticmethod
    def _path(order_id: str, action: str = "") -> str:
        return f"/orders/{quote(order_id, safe='')}" + (f"/{action}" if action else "")

    async def get_order(self, order_id: str) -> Order:
        return self._order(await self._call("GET", self._path(order_id)))

    async def orders_of(self, customer_id: str, limit: int | None = None) -> list[Order]:
        try:
            data = await self._call("GET", f"/customers/{quote(customer_id, safe='')}/orders",
                                    params={"limit": str(limit)} if limit is not None else None)
        except OrderNotFound:
            return []
        orders = data.get("orders", []) if isinstance(data, dict) else []
        return [self._order(item) for item in orders[:limit]]  # a shop that ignores ``limit`` is cut here

    async def cancel(self, order_id: str, *, idempotency_key: str | None = None) -> Order:
        return self._order(await self._call("POST", self._path(order_id, "cancel"), {}, idempotency_key))

    async def change_address(self, order_id: str, address: str, *, idempotency_key: str | None = None) -> Order:
        body = {"address": address}
        return self._order(await self._call("POST", self._path(order_id, "address"), body, idempotency_key))

    async def request_refund(self, order_id: str, reason: str, *,
                             idempotency_key: str | None = None) -> AfterSalesRequest:
        body = {"reason": reason}
        return self._request(await self._call("POST", self._path(order_id, "refund"), body, idempotency_key))

    async def request_return(self, order_id: str, kind: Literal["return", "exchange"], pickup: bool, *,
                             idempotency_key: str | None = None) -> AfterSalesRequest:
        body = {"kind": kind, "pickup": pickup}
        return self._request(await self._call("POST", self._path(order_id, "return"), body, idempotency_key))

    async def request_invoice(self, order_id: str, title: str, tax_id: str | None, *,
                              idempotency_key: str | None = None) -> AfterSalesRequest:
        body = {"title": title, "tax_id": tax_id}
        return self._request(await self._call("POST", self._path(order_id, "invoice"), body, idempotency_key))
