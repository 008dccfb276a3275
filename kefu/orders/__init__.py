"""Where orders live: a demo store in Redis or a shop's REST API, behind one OrderBackend interface."""
from __future__ import annotations

import redis.asyncio as aioredis

from kefu.config.orders import OrderSettings
from kefu.orders.base import BackendUnavailable, Order, OrderBackend, OrderNotFound, ShopRefused

__all__ = ["BackendUnavailable", "Order", "OrderBackend", "OrderNotFound", "ShopRefused", "create_backend"]


def create_backend(settings: OrderSettings, redis: aioredis.Redis) -> OrderBackend:
    """The backend KEFU_ORDER_BACKEND names; imported lazily so the demo never needs aiohttp and vice versa."""
    if settings.backend == "http":
        from kefu.orders.http import HttpOrderBackend

        return HttpOrderBackend(settings.api_url, settings.api_token, settings.api_timeout_s)
    from kefu.orders.demo import DemoOrderBackend

    return DemoOrderBackend(redis)
